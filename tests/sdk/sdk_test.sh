#!/usr/bin/env bash
# The SDK as a user gets it. Installs csgi into a fresh prefix; builds each
# project of examples/ against that prefix alone; runs the plugin example's
# own tests; serves the plugin with the installed csgi and runs the embedded
# server, and asks both over HTTP; builds the plugin with pkg-config against a
# csgi of another release (a copy of the prefix whose version is changed) and
# expects the installed csgi to refuse it in one line naming both releases;
# builds the embedded example with pkg-config; and builds a plugin in a
# project that adds csgi's source tree with add_subdirectory.
#
# And docs/app-guide.md, which walks through the same, shows each file of
# examples/ as it is.
#
# usage: sdk_test.sh SOURCE_DIR BUILD_DIR WORK_DIR CXX [CXX_FLAGS]
# WORK_DIR is emptied first; it keeps the same path between runs so that
# ccache recognises the compilations.
set -euo pipefail

source_dir=$1 build_dir=$2 work=$3 cxx=$4 cxx_flags=${5:-}
prefix=$work/prefix
projects=$work/projects

step() { echo "== $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$projects"

cmake_args=(-G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release
            -DCMAKE_CXX_FLAGS="$cxx_flags" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
            -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON)
if command -v ccache > /dev/null; then cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
compile=("$cxx")
if command -v ccache > /dev/null; then compile=(ccache "$cxx"); fi

# Configures and builds the project in $1 (a copy of an example) against the
# installed csgi, and checks that nothing of it came from csgi's source tree.
build_against_prefix() {
  cmake -S "$1" -B "$1/build" "${cmake_args[@]}" -DCMAKE_PREFIX_PATH="$prefix" > "$1/configure.log" \
    || { cat "$1/configure.log"; fail "configuring $1"; }
  cmake --build "$1/build" -j 2 > "$1/build.log" || { cat "$1/build.log"; fail "building $1"; }
  grep -q "csgi_DIR:PATH=$prefix/" "$1/build/CMakeCache.txt" || fail "$1 found another csgi"
  local dir
  for dir in $(grep -oE -- '-(I|isystem ?)[^ "]+' "$1/build/compile_commands.json" |
               sed -E 's/^-(I|isystem ?)//' | sort -u); do
    case $dir in
      "$prefix"/* | "$1"/* | /usr/*) ;;
      *) fail "$1 was compiled with $dir on its include path" ;;
    esac
  done
}

# Starts a server (the command in "$@") on a free port, its log in
# $server_log; sets $server_pid and $url once it listens.
start_server() {
  server_log=$work/server-$RANDOM.log
  "$@" --port 0 --no-access-log 2> "$server_log" &
  server_pid=$!
  for _ in $(seq 200); do
    url=$(sed -n 's/.*running on \(http:[^ ]*\).*/\1/p' "$server_log")
    [ -n "$url" ] && return 0
    kill -0 "$server_pid" 2> /dev/null || { cat "$server_log"; fail "server exited: $*"; }
    sleep 0.05
  done
  cat "$server_log"; fail "server did not start: $*"
}

stop_server() {
  kill -TERM "$server_pid"
  local status=0
  wait "$server_pid" || status=$?
  [ "$status" = 0 ] || { cat "$server_log"; fail "server exited with $status after TERM"; }
}

# expect_body URL TEXT: a 200 whose body is TEXT.
expect_body() {
  local body
  body=$(curl -sS --fail --max-time 10 "$1") || fail "GET $1"
  [ "$body" = "$2" ] || fail "GET $1 gave '$body', expected '$2'"
}

expect_status() {
  local status
  status=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$1")
  [ "$status" = "$2" ] || fail "GET $1 gave $status, expected $2"
}

step "docs/app-guide.md shows the examples as they are"
mkdir -p "$work/guide"
awk -v out="$work/guide" '
  /^<!-- example: .* -->$/ { name = $3; gsub("/", "_", name); next }
  name != "" && /^```/ { if (file) { close(file); file = ""; name = "" } else file = out "/" name; next }
  file { print > file }
' "$source_dir/docs/app-guide.md"
for example in "$source_dir"/examples/*/*; do
  shown=$work/guide/$(basename "$(dirname "$example")")_$(basename "$example")
  [ -f "$shown" ] || fail "docs/app-guide.md does not show ${example#"$source_dir"/}"
  diff -u "$shown" "$example" || fail "docs/app-guide.md shows another ${example#"$source_dir"/}"
done

step "cmake --install into $prefix"
cmake --install "$build_dir" --prefix "$prefix" > "$work/install.log"

step "installed headers: the public ones, under csgi/, including each other as <csgi/...>"
for header in csgi/version.hpp csgi/apps/plugin.hpp csgi/cli/embed.hpp csgi/gateway/app.hpp \
              csgi/web/router.hpp csgi/gateway/testing/async_client.hpp csgi/client/async_client.hpp; do
  [ -f "$prefix/include/$header" ] || fail "$header is not installed"
done
for private in servers/serve.hpp servers/loop protocol/parser.hpp apps/loader.hpp cli/command_line.hpp; do
  [ ! -e "$prefix/include/csgi/$private" ] || fail "the private $private is installed"
done
if grep -rn '#include "' "$prefix/include"; then fail "an installed header includes with quotes"; fi
grep -rhoE '#include <csgi/[^>]+>' "$prefix/include" | sort -u | sed 's/#include <\(.*\)>/\1/' |
  while read -r included; do
    [ -f "$prefix/include/$included" ] || fail "<$included> is included but not installed"
  done

step "find_package(csgi X.Y) accepts this release's minor version only"
release=$(sed -n 's/#define CSGI_RELEASE "\(.*\)"/\1/p' "$prefix/include/csgi/version.hpp")
IFS=. read -r major minor _ <<< "$release"
for wanted in "$major.$minor" "$major.$((minor + 1))"; do
  mkdir -p "$projects/version-$wanted"
  printf 'cmake_minimum_required(VERSION 3.25)\nproject(v LANGUAGES CXX)\nfind_package(csgi %s CONFIG REQUIRED)\n' \
    "$wanted" > "$projects/version-$wanted/CMakeLists.txt"
  found=0
  cmake -S "$projects/version-$wanted" -B "$projects/version-$wanted/build" \
    -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$prefix" > "$projects/version-$wanted/configure.log" 2>&1 || found=$?
  if [ "$wanted" = "$major.$minor" ]; then
    [ "$found" = 0 ] || { cat "$projects/version-$wanted/configure.log"; fail "csgi $wanted not found"; }
  else
    [ "$found" != 0 ] || fail "csgi $release was accepted for $wanted"
  fi
done

step "examples/plugin: configure, build, run its own tests"
cp -r "$source_dir/examples/plugin" "$projects/plugin"
build_against_prefix "$projects/plugin"
(cd "$projects/plugin/build" && ctest --output-on-failure --timeout 60) || fail "the plugin's tests"

step "the installed csgi serves the plugin"
start_server "$prefix/bin/csgi" serve "$projects/plugin/build/libhello.so"
expect_body "$url/hello/?name=sdk" "Hello, sdk!"
expect_body "$url/slow/" "Waited 10 ms without blocking anyone."
expect_body "$url/api/items/7/" '{"id":7,"name":"item 7"}'
expect_status "$url/api/items/seven/" 404
stop_server

step "examples/embedded: configure, build, serve"
cp -r "$source_dir/examples/embedded" "$projects/embedded"
build_against_prefix "$projects/embedded"
"$projects/embedded/build/hello_server" --version | grep -q "^csgi " || fail "hello_server --version"
start_server "$projects/embedded/build/hello_server" --server threaded
expect_body "$url/" "Hello from an embedded server, GET!"
stop_server

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
step "pkg-config: the embedded example, compiled and linked with csgi.pc"
read -r -a cflags <<< "$(pkg-config --cflags csgi)"
read -r -a libs <<< "$(pkg-config --libs csgi)"
"${compile[@]}" "${cflags[@]}" $cxx_flags -O1 -c "$projects/embedded/main.cpp" -o "$work/main.o"
"$cxx" $cxx_flags "$work/main.o" "${libs[@]}" -o "$work/hello_server_pc"
start_server "$work/hello_server_pc"
expect_body "$url/" "Hello from an embedded server, GET!"
stop_server

step "a plugin built against another csgi release is refused in one line naming both"
cp -r "$prefix" "$work/other-prefix"
abi=$(sed -n 's/.*abi_version = \([0-9]*\);/\1/p' "$prefix/include/csgi/apps/plugin.hpp")
sed -i 's/#define CSGI_RELEASE ".*"/#define CSGI_RELEASE "99.0.0"/' "$work/other-prefix/include/csgi/version.hpp"
sed -i 's/abi_version = [0-9]*;/abi_version = 99;/' "$work/other-prefix/include/csgi/apps/plugin.hpp"
read -r -a other_cflags <<< "$(PKG_CONFIG_PATH=$work/other-prefix/lib/pkgconfig pkg-config --cflags csgi)"
for source in app plugin; do
  "${compile[@]}" "${other_cflags[@]}" $cxx_flags -O1 -fPIC -c "$projects/plugin/$source.cpp" \
    -o "$work/other-$source.o"
done
"$cxx" $cxx_flags -shared "$work/other-app.o" "$work/other-plugin.o" -o "$work/libhello-99.so"
status=0
"$prefix/bin/csgi" serve "$work/libhello-99.so" --port 0 > "$work/other.out" 2> "$work/other.err" || status=$?
[ "$status" = 1 ] || { cat "$work/other.err"; fail "csgi exited with $status, expected 1"; }
[ "$(wc -l < "$work/other.err")" = 1 ] || { cat "$work/other.err"; fail "expected one line"; }
expected="built against csgi 99.0.0 (plugin ABI 99), but this is csgi $release (plugin ABI $abi)"
grep -qF "$expected" "$work/other.err" || { cat "$work/other.err"; fail "expected: $expected"; }
cat "$work/other.err"

step "a project that adds csgi with add_subdirectory builds a plugin"
mkdir -p "$projects/outer"
cat > "$projects/outer/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.25)
project(outer LANGUAGES CXX)
add_subdirectory("$source_dir" csgi)
add_library(hello MODULE "$projects/plugin/app.cpp" "$projects/plugin/plugin.cpp")
target_link_libraries(hello PRIVATE csgi::plugin)
CMAKE
cmake -S "$projects/outer" -B "$projects/outer/build" "${cmake_args[@]}" -DCMAKE_C_COMPILER="${cxx/++/}" \
  > "$projects/outer/configure.log" || { cat "$projects/outer/configure.log"; fail "configuring outer"; }
cmake --build "$projects/outer/build" -j 2 --target hello > "$projects/outer/build.log" \
  || { cat "$projects/outer/build.log"; fail "building the plugin of outer"; }
[ -f "$projects/outer/build/libhello.so" ] || fail "outer built no libhello.so"

echo "OK"
