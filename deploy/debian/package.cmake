# The Debian package (CPack, generator DEB): included by the top
# CMakeLists.txt only with -DLIENTHONG_PACKAGE=ON, which scripts/package.sh
# sets; the normal build installs and packages nothing. Contents:
#   /usr/sbin/lienthong-gateway            the daemon
#   /usr/bin/lienthong                     the operator's command-line tool
#   /lib/systemd/system/lienthong-gateway.service
#   /etc/lienthong/gateway.yaml            conffile (deploy/systemd/gateway.yaml)
#   /etc/logrotate.d/lienthong             conffile (deploy/logrotate/lienthong)
#   /usr/share/doc/lienthong/              copyright, changelog.gz, README.md,
#                                          examples/ (developer config, HAProxy)
#   /usr/share/man/man8, man1              man pages made from --help by help2man
#   /usr/share/lintian/overrides/lienthong documented lintian exceptions
# Maintainer scripts (deploy/debian): postinst creates the lienthong user
# and the folders (state, logs), postrm purge removes them. The simulator
# (lienthong-sim) is a test tool and is not shipped.

find_program(HELP2MAN help2man REQUIRED)
find_program(GZIP gzip REQUIRED)

set(_deb ${CMAKE_CURRENT_SOURCE_DIR}/deploy/debian)
set(_gen ${CMAKE_CURRENT_BINARY_DIR}/debian)
file(MAKE_DIRECTORY ${_gen})

# Man pages from --help and --version (help2man), and the changelog,
# compressed as Debian policy asks (gzip -9n: no name, no timestamp).
function(lienthong_man_page target section description)
  set(page ${_gen}/${target}.${section}.gz)
  add_custom_command(OUTPUT ${page}
    COMMAND ${HELP2MAN} --no-info --section=${section}
            --name=${description} --output=${_gen}/${target}.${section}
            $<TARGET_FILE:${target}>
    COMMAND ${GZIP} -9nf ${_gen}/${target}.${section}
    DEPENDS ${target}
    COMMENT "help2man ${target}(${section})"
    VERBATIM)
  add_custom_target(${target}-man ALL DEPENDS ${page})
  install(FILES ${page} DESTINATION share/man/man${section})
endfunction()
lienthong_man_page(lienthong-gateway 8 "Lienthong integration gateway daemon")
lienthong_man_page(lienthong 1 "call the Lienthong gateway as an operator")

add_custom_command(OUTPUT ${_gen}/changelog.gz
  COMMAND ${GZIP} -9nc ${_deb}/changelog > ${_gen}/changelog.gz
  DEPENDS ${_deb}/changelog)
add_custom_target(lienthong-changelog ALL DEPENDS ${_gen}/changelog.gz)

set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
    WORLD_READ WORLD_EXECUTE)
set(_doc share/doc/lienthong)
install(TARGETS lienthong-gateway RUNTIME DESTINATION sbin)
install(TARGETS lienthong RUNTIME DESTINATION bin)
install(FILES deploy/systemd/lienthong-gateway.service
        DESTINATION /lib/systemd/system)
install(FILES deploy/systemd/gateway.yaml DESTINATION /etc/lienthong)
install(FILES deploy/logrotate/lienthong DESTINATION /etc/logrotate.d)
install(FILES ${_deb}/copyright ${_gen}/changelog.gz README.md
        DESTINATION ${_doc})
install(FILES deploy/examples/gateway.yaml deploy/examples/holidays.yaml
              deploy/examples/catalogue.json
              deploy/examples/catalogue.csv deploy/haproxy/haproxy.cfg
        DESTINATION ${_doc}/examples)
install(FILES ${_deb}/lintian-overrides DESTINATION share/lintian/overrides
        RENAME lienthong)

file(STRINGS gateway/cli/version.h _version_line REGEX "kVersion\\[\\] = ")
string(REGEX MATCH "[0-9]+\\.[0-9]+\\.[0-9]+" LIENTHONG_VERSION
       "${_version_line}")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME lienthong)
set(CPACK_PACKAGE_VERSION ${LIENTHONG_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_CONTACT "Lienthong maintainers <lienthong-maintainers@example.org>")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "provincial integration gateway to the national systems")
# The extended description: CPack indents each line and turns an empty one
# into " ."; the synopsis is the summary above.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"Lienthong connects a province's systems to the national ones (population
database, VNeID sign-in, National Public Service Portal) behind one gRPC
API with mutual TLS, per-client grants, a tamper-evident audit log and a
durable outbox for portal updates.

This package contains the gateway daemon, a sandboxed systemd unit (not
enabled on install), an example configuration and the operator's
command-line tool.")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${_deb}/conffiles ${_deb}/postinst ${_deb}/prerm ${_deb}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
