# sc_embed(OUT ROOT FILES): writes a C file holding every file of FILES as a
# byte array, named by its path below ROOT, plus sc_asset_find() to look them
# up.  The binary then needs no files beside it.
function(sc_embed out root files)
  string(REPLACE ";" "|" joined "${files}")
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DROOT=${root} "-DFILES=${joined}"
            -P ${CMAKE_SOURCE_DIR}/cmake/embed_run.cmake
    DEPENDS ${files} ${CMAKE_SOURCE_DIR}/cmake/embed_run.cmake
    COMMENT "Embedding templates and static assets"
    VERBATIM)
endfunction()
