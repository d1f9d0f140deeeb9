# Thin entry points; the build itself lives in CMake.
#   make deps    install missing Debian packages (apt-get update first)
#   make deps-build   only those that building csgi needs (no test peers)
#   make build   configure and build into build/ (optimised, with debug info)
#   make csgi    deps-build, configure, then build only the executable, build/bin/csgi
#   make check   build, then run the whole test suite through ctest
#   make demo    build, then serve the article's app on 127.0.0.1:8000
#   make article build, then reproduce the article's deadlock on every server set-up (csgi scenario)
#   make install PREFIX=/opt/csgi   build, then install the SDK there (default /usr/local)
#   make container-check   build docs/deployment.md's container recipe in a
#                debootstrap chroot and run it as its Kubernetes manifest does
# SANITIZE=address,undefined builds into build-sanitize/ with ASan+UBSan.

# What building csgi needs, then what only its tests start for real.
BUILD_PACKAGES := clang-19 lld-19 llvm-19 libclang-rt-19-dev cmake ninja-build ccache make \
                  libboost1.81-dev node-llhttp libspdlog-dev libgtest-dev libgmock-dev \
                  libcli11-dev libbenchmark-dev pkgconf zlib1g-dev
TEST_PACKAGES := curl nginx haproxy systemd openssl python3-websockets chromium
PACKAGES ?= $(BUILD_PACKAGES) $(TEST_PACKAGES)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

SANITIZE ?=
ifeq ($(SANITIZE),)
BUILD_DIR ?= build
PRESET_FLAGS := -DCMAKE_BUILD_TYPE=RelWithDebInfo
else
BUILD_DIR ?= build-sanitize
PRESET_FLAGS := -DCMAKE_BUILD_TYPE=Debug -DCSGI_SANITIZE=$(SANITIZE)
endif
JOBS ?= $(shell nproc)
PREFIX ?= /usr/local

.PHONY: deps deps-build configure build csgi check demo article install container-check clean

deps:
	@missing=$$(for p in $(PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Target-specific: the deps that these targets run install the build's packages only.
deps-build csgi: PACKAGES = $(BUILD_PACKAGES)
deps-build: deps

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja \
	  -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
	  $(PRESET_FLAGS) > /dev/null

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

csgi: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target csgi

check: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 120

demo: build
	./$(BUILD_DIR)/bin/csgi serve mysite --host 127.0.0.1 --port 8000

# The article's deadlock and its fixes, measured and checked on every server
# set-up; ARGS="--sleep-ms 100 --timeout-ms 600 --html timeline.html", say.
article: build
	./$(BUILD_DIR)/bin/csgi scenario $(ARGS)

# The SDK: headers, libraries, csgi, the CMake package and csgi.pc (docs/app-guide.md).
install: build
	cmake --install $(BUILD_DIR) --prefix $(PREFIX)

container-check:
	tests/deployment/container_recipe.sh

clean:
	rm -rf build build-sanitize
