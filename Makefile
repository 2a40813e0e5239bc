# qmpshell: `make run` opens the shell on a throwaway QEMU, `make test` runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

QEMU_PACKAGES := qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils
# The shells and tools the completion, man page and TLS tests exercise for real.
TEST_PACKAGES := bash:bash zsh:zsh fish:fish groff:groff-base man:man-db openssl:openssl \
                 qemu-ga:qemu-guest-agent tmux:tmux
# A libvirt daemon the tests run privately (not libvirt-daemon-system, which
# pulls systemd), and what libvirt-python builds against.
LIBVIRT_PACKAGES := /usr/sbin/libvirtd:libvirt-daemon \
	/usr/lib/*/libvirt/connection-driver/libvirt_driver_qemu.so:libvirt-daemon-driver-qemu \
	virsh:libvirt-clients /usr/include/libvirt/libvirt-qemu.h:libvirt-dev \
	pkg-config:pkg-config gcc:gcc

.PHONY: run test check lint imports typecheck unit e2e qemu test-tools libvirt table qapi-tables \
        qemu-src generate bench clean

# The test extra builds libvirt-python, which needs libvirt's headers first.
$(STAMP): pyproject.toml | libvirt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# A plain path in site-packages, not an import hook: the hook's own imports
	# cost every Python start in this venv, benchmarks included.
	$(BIN)/python -m pip install -q -e '.[test]' --config-settings editable_mode=compat \
		|| $(BIN)/python -m pip install -q -e '.[test]'
	touch $@

qemu:
	@sh scripts/ensure-packages.sh $(QEMU_PACKAGES)

test-tools:
	@sh scripts/ensure-packages.sh $(TEST_PACKAGES)

libvirt:
	@sh scripts/ensure-packages.sh $(LIBVIRT_PACKAGES)

run: $(STAMP) qemu
	@sh scripts/run-demo.sh $(BIN)/qmpshell

test: $(STAMP) qemu test-tools lint imports typecheck unit e2e

lint: $(STAMP)
	$(BIN)/ruff check qmpshell tests bench tools

# The wings import one way (pyproject.toml, [tool.importlinter]).
imports: $(STAMP)
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# No QEMU, no terminal: seconds.
unit: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider tests/unit

# Real QEMU processes, real terminals, on both cores.
e2e: $(STAMP) qemu test-tools libvirt
	$(BIN)/pytest -q -p no:cacheprovider -n 2 tests/e2e

table: $(STAMP)
	$(BIN)/python tools/gen_table.py --write-table

# QEMU's QAPI schema sources (qapi/*.json, qga/qapi-schema.json and QEMU's reader
# scripts/qapi): the documentation and guest-agent tables are generated from them.
QEMU_SRC ?= .qemu-src
QEMU_SRC_TARBALL := qemu_7.2+dfsg.orig.tar.xz

# The documentation and guest-agent tables, when a QEMU source tree is at hand
# (`make qemu-src` fetches QEMU 7.2's with apt; see tools/qapi_source.py).
qapi-tables: $(STAMP)
	@if [ -f "$(QEMU_SRC)/scripts/qapi/schema.py" ]; then \
	  QEMU_SRC="$(QEMU_SRC)" $(BIN)/python -m tools.gen_qapi_docs --write && \
	  QEMU_SRC="$(QEMU_SRC)" $(BIN)/python -m tools.gen_qga_table --write; \
	else echo "no QEMU source in $(QEMU_SRC) (make qemu-src): qapi-docs.json and qga-schema.json left as they are"; fi

qemu-src:
	@set -e; tmp=$$(mktemp -d); \
	echo 'deb-src http://deb.debian.org/debian bookworm main' > $$tmp/src.list; \
	apt-get -q -o Dir::Etc::SourceList=$$tmp/src.list -o Dir::Etc::SourceParts=/dev/null update; \
	cd $$tmp && apt-get -q -o Dir::Etc::SourceList=$$tmp/src.list \
	  -o Dir::Etc::SourceParts=/dev/null source --download-only qemu; cd - >/dev/null; \
	mkdir -p $(QEMU_SRC) && tar xJf $$tmp/$(QEMU_SRC_TARBALL) -C $(QEMU_SRC) --strip-components=1 \
	  qemu-7.2.0/qapi qemu-7.2.0/qga qemu-7.2.0/scripts/qapi qemu-7.2.0/VERSION \
	  qemu-7.2.0/COPYING qemu-7.2.0/LICENSE; rm -rf $$tmp

# Everything generated at build time: the command, documentation and guest-agent
# tables, shell completions, man page.
generate: table qapi-tables
	$(BIN)/python -m tools.completions_gen

bench: $(STAMP) qemu libvirt
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache
