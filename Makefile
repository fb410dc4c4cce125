# pixeld build. Everything lands under build/: build/obj for the normal build,
# build/san for the ASan+UBSan build of the unit tests (SANITIZER=...).
# V=1 shows the commands.

BUILD     ?= build
SANITIZER ?=
CC        ?= gcc
CLANG     ?= clang
BPFTOOL   ?= bpftool

WARN   := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	  -Wformat=2 -Wundef
CFLAGS := -std=c17 -D_GNU_SOURCE -O2 -g $(WARN) -Iinclude -I. -Ibpf -I$(BUILD)/bpf -MMD -MP
LDLIBS := -luring -lbpf -lelf -lz -lck -ljansson -linih -lhs -lcurl -lnats -lssl -lcrypto -lpsl \
	  -lsystemd -lpthread -lm

ifeq ($(SANITIZER),)
OBJDIR := $(BUILD)/obj
# jemalloc replaces malloc in the shipped binaries; the sanitizer build keeps
# ASan's allocator so it can see every allocation.
MALLOC := -ljemalloc
else
OBJDIR := $(BUILD)/san
CFLAGS += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZER)
MALLOC :=
endif

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Sources are found, not listed: a new file in a folder builds without a
# Makefile edit. rwildcard walks a folder tree.
rwildcard = $(foreach d,$(wildcard $(1:=/*)),$(call rwildcard,$(d),$(2)) $(filter $(2),$(d)))

# The product library: the daemon's subsystems, the delivery core and the
# adapters. pixeld and pixelctl are its two programs.
DAEMON_MAINS := daemon/main.c daemon/ctl/pixelctl.c
LIB_SRCS   := $(filter-out $(DAEMON_MAINS),$(call rwildcard,daemon adapters,%.c))
# Data files (bot patterns, mail-proxy ranges) are embedded in the binaries:
# daemon/data/NAME.txt becomes the NUL-terminated array pxd_data_NAME[].
DATA_SRCS  := $(wildcard daemon/data/*.txt)
DATA_OBJS  := $(DATA_SRCS:daemon/data/%.txt=$(OBJDIR)/data/%.o)
# The console's page, script and style: daemon/console/www/NAME.EXT becomes
# the NUL-terminated pxd_www_NAME_EXT[] the same way.
WWW_SRCS   := $(wildcard daemon/console/www/*)
WWW_OBJS   := $(WWW_SRCS:daemon/console/www/%=$(OBJDIR)/www/%.o)
LIB_OBJS   := $(LIB_SRCS:%.c=$(OBJDIR)/%.o) $(DATA_OBJS) $(WWW_OBJS)
LIB        := $(OBJDIR)/libpxd.a

# Test and bench programs: bench/NAME.c is one program; a folder
# tests/NAME/ or bench/NAME/ is one program whose main() is in main.c, and
# whose other files also make an archive that unit tests may link
# (tests/unit/test_mock_routes.c tests the mock's routes, for instance).
TOOL_DIRS  := $(patsubst %/main.c,%,$(wildcard tests/*/main.c bench/*/main.c))
TOOL_NAMES := $(notdir $(TOOL_DIRS)) $(patsubst bench/%.c,%,$(wildcard bench/*.c))
TOOL_ARS   := $(foreach d,$(TOOL_DIRS),$(OBJDIR)/$(d)/lib$(notdir $(d)).a)
tool_objs   = $(patsubst %.c,$(OBJDIR)/%.o,$(filter-out $(1)/main.c,$(wildcard $(1)/*.c)))

BPF_SRCS   := $(wildcard bpf/*.bpf.c)
BPF_OBJS   := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/bpf/%.bpf.o)
BPF_SKELS  := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/bpf/%.skel.h)

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(OBJDIR)/tests/unit/%)
XDP_SRCS   := $(wildcard tests/xdp/test_*.c)
XDP_BINS   := $(XDP_SRCS:tests/xdp/%.c=$(OBJDIR)/tests/xdp/%)
# libFuzzer drivers: each links only the parser it fuzzes (clang, -fsanitize=fuzzer).
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS  := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_FLAGS := -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined $(WARN) \
	      -Iinclude -I. -Ibpf
EVENT_SRCS := $(addprefix daemon/event/,event.c pii.c uuid7.c jsonw.c) daemon/http/refusal.c
FUZZ_DEPS_fuzz_http_parse := daemon/http/http_parse.c daemon/http/refusal.c
FUZZ_DEPS_fuzz_event_query := daemon/event/event_query.c $(EVENT_SRCS)
FUZZ_DEPS_fuzz_event_json := daemon/event/event_json.c $(EVENT_SRCS)
FUZZ_DEPS_fuzz_event_beacon := daemon/event/event_beacon.c daemon/event/event_json.c $(EVENT_SRCS)
FUZZ_DEPS_fuzz_email_token := $(addprefix daemon/email/,email_fields.c email_keys.c email_token.c) \
			      daemon/conf/conf_secret.c daemon/conf/conf_parse.c
FUZZ_DEPS_fuzz_segment := $(wildcard daemon/event/segment*.c) daemon/event/event_json.c $(EVENT_SRCS)
FUZZ_DEPS_fuzz_journal_record := daemon/journal/journal_record.c daemon/journal/crc32c.c
# Every section module is named conf_<section>.c beside its subsystem.
FUZZ_DEPS_fuzz_conf_ini := $(sort $(wildcard daemon/conf/*.c daemon/*/conf_*.c)) daemon/log.c
FUZZ_DEPS_fuzz_watermarks := daemon/journal/watermark.c $(wildcard daemon/journal/journal_*.c) \
			     daemon/journal/crc32c.c daemon/buf.c daemon/log.c
FUZZ_DEPS_fuzz_tls_sni := daemon/tls/tls_sni.c
FUZZ_DEPS_fuzz_event_line := daemon/event/event_line.c $(EVENT_SRCS)

PROGS := $(OBJDIR)/pixeld $(OBJDIR)/pixelctl $(addprefix $(OBJDIR)/,$(TOOL_NAMES))

.PHONY: all deps run test unit-bins xdp-bins fuzz fuzz-long format check-format clean bench
.SECONDARY:
.DELETE_ON_ERROR:

all: $(PROGS) $(BUILD)/bpf-stamp
ifeq ($(SANITIZER),)
	$(Q)for p in $(PROGS); do ln -sf "$${p#$(BUILD)/}" $(BUILD)/$$(basename $$p); done
endif

deps:
	$(Q)./scripts/install-deps.sh

run: deps
	$(Q)$(MAKE) --no-print-directory all
	exec $(BUILD)/pixeld

test: deps
	$(Q)$(MAKE) --no-print-directory check-format
	$(Q)$(MAKE) --no-print-directory all unit-bins xdp-bins
	$(Q)$(MAKE) --no-print-directory SANITIZER=address,undefined unit-bins
	$(Q)$(MAKE) --no-print-directory fuzz
	$(Q)./tests/run.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)./bench/run --e2e
	$(Q)./bench/tls_vs_nginx.py --write
	$(Q)./bench/idle_rss.sh
	$(Q)./bench/cpu_vs_nginx.sh

unit-bins: $(UNIT_BINS)
xdp-bins: $(XDP_BINS)
fuzz: $(FUZZ_BINS)

# Every fuzzer for FUZZ_LONG_SECONDS (default 600) each; new coverage is merged
# into tests/fuzz/corpus/<parser>/, crashes kept in tests/fuzz/corpus/crashes/.
fuzz-long: $(FUZZ_BINS)
	$(Q)./tests/fuzz/long.sh

.SECONDEXPANSION:
$(BUILD)/fuzz/%: tests/fuzz/%.c $$(FUZZ_DEPS_%) $(call rwildcard,include daemon tests/unit,%.h)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_FLAGS) $< $(FUZZ_DEPS_$*) -o $@ -ljansson -linih -lssl -lcrypto -lck

# Rebuild everything when the flags change (redis' persist-settings idea).
$(OBJDIR)/.flags: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)echo '$(CC) $(CFLAGS) $(LDFLAGS)' | cmp -s - $@ || echo '$(CC) $(CFLAGS) $(LDFLAGS)' > $@
FORCE:

$(OBJDIR)/%.o: %.c $(OBJDIR)/.flags | $(BPF_SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# embed SYMBOL,FILE: an object whose NUL-terminated SYMBOL[] holds FILE.
embed = printf '%s\n' '.section .rodata' '.global $(1)' '$(1):' '.incbin "$(2)"' '.byte 0' \
	'.section .note.GNU-stack,"",@progbits' | $(CC) -c -x assembler -o $@ -

$(OBJDIR)/data/%.o: daemon/data/%.txt
	$(call msg,DATA,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(call embed,pxd_data_$*,$<)

$(OBJDIR)/www/%.o: daemon/console/www/%
	$(call msg,WWW,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(call embed,pxd_www_$(subst .,_,$*),$<)

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OBJDIR)/pixeld: $(OBJDIR)/daemon/main.o $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS) $(MALLOC)

$(OBJDIR)/pixelctl: $(OBJDIR)/daemon/ctl/pixelctl.o $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS) $(MALLOC)

define tool_rules
$(OBJDIR)/$(1)/lib$(notdir $(1)).a: $(call tool_objs,$(1))
	$$(call msg,AR,$$@)
	$$(Q)rm -f $$@ && ar rcs $$@ $$^

$(OBJDIR)/$(notdir $(1)): $(OBJDIR)/$(1)/main.o $(OBJDIR)/$(1)/lib$(notdir $(1)).a $(LIB)
	$$(call msg,LD,$$@)
	$$(Q)$$(CC) $$(LDFLAGS) $$^ -o $$@ $$(LDLIBS) $$(MALLOC)
endef
$(foreach d,$(TOOL_DIRS),$(eval $(call tool_rules,$(d))))

$(OBJDIR)/%: $(OBJDIR)/bench/%.o $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS) $(MALLOC)

$(OBJDIR)/tests/%: $(OBJDIR)/tests/%.o $(TOOL_ARS) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS) -lcmocka $(MALLOC)

# BPF: clang -target bpf, then a libbpf skeleton that the loader includes.
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -Ibpf \
		-I/usr/include/$(shell gcc -dumpmachine) -c $< -o $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(BUILD)/bpf-stamp: $(BPF_SKELS)
	$(Q)mkdir -p $(@D) && touch $@

FORMAT_FILES = $(call rwildcard,bpf daemon adapters include bench tests,%.c %.h)
format:
	clang-format -i $(FORMAT_FILES)
check-format:
	$(call msg,FORMAT,check)
	$(Q)clang-format --dry-run -Werror $(FORMAT_FILES)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# --- Installing -------------------------------------------------------------
# make install [PREFIX=/usr/local] [DESTDIR=]: programs, unit, man pages, the
# configuration (never over an existing one) and /var/lib/pixeld owned by the
# pixeld system user, which scripts/pixeld-user.sh creates in the system at
# DESTDIR when DESTDIR holds one (etc/passwd) or DESTDIR is empty; a bare
# staging DESTDIR (make deb) leaves that to the package's postinst.
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
STATEDIR   ?= /var/lib/pixeld
SBINDIR    := $(PREFIX)/sbin
BINDIR     := $(PREFIX)/bin
MANDIR     := $(PREFIX)/share/man
DOCDIR     := $(PREFIX)/share/doc/pixeld
UNITDIR    ?= $(PREFIX)/lib/systemd/system
# pixeld.ini(5) is written from README.md's configuration sections.
MAN_PAGES  := $(wildcard scripts/man/*.[0-9]) $(BUILD)/man/pixeld.ini.5
CONF_DEST  := $(DESTDIR)$(SYSCONFDIR)/pixeld/pixeld.ini

.PHONY: install uninstall deb man
man: $(MAN_PAGES)
$(BUILD)/man/pixeld.ini.5: README.md scripts/man-ini.py
	$(call msg,MAN,$@)
	$(Q)mkdir -p $(@D) && scripts/man-ini.py README.md > $@

install: $(OBJDIR)/pixeld $(OBJDIR)/pixelctl $(MAN_PAGES)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -D -m 0755 $(OBJDIR)/pixeld $(DESTDIR)$(SBINDIR)/pixeld
	$(Q)install -D -m 0755 $(OBJDIR)/pixelctl $(DESTDIR)$(BINDIR)/pixelctl
	$(Q)install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	$(Q)sed -e 's|/usr/sbin/pixeld|$(SBINDIR)/pixeld|g' \
		-e 's|/etc/pixeld/|$(SYSCONFDIR)/pixeld/|g' -e 's|/var/lib/pixeld|$(STATEDIR)|g' \
		scripts/pixeld.service > $(DESTDIR)$(UNITDIR)/pixeld.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/pixeld.service
	$(Q)for m in $(MAN_PAGES); do \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/; done
	$(Q)install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/pixeld
	$(Q)if [ -e $(CONF_DEST) ]; then \
		echo "  KEEP     $(CONF_DEST) (exists; every key: $(DOCDIR)/pixeld.ini.example)"; \
	else \
		sed -e 's|^data_dir = .*|data_dir = $(STATEDIR)|' scripts/pixeld.ini.example \
			> $(CONF_DEST) && chmod 0640 $(CONF_DEST); fi
	$(Q)install -d $(DESTDIR)$(DOCDIR)
	$(Q)sed -e 's|^data_dir = .*|data_dir = $(STATEDIR)|' scripts/pixeld.ini.example \
		> $(DESTDIR)$(DOCDIR)/pixeld.ini.example
	$(Q)install -d -m 0750 $(DESTDIR)$(STATEDIR)
	$(Q)if [ -z "$(DESTDIR)" ] || [ -e "$(DESTDIR)/etc/passwd" ]; then \
		PXD_ROOT="$(DESTDIR)" PXD_STATEDIR="$(STATEDIR)" \
		PXD_CONF="$(SYSCONFDIR)/pixeld/pixeld.ini" scripts/pixeld-user.sh configure; fi

# Removes what install put there except the configuration, the data
# directory (it holds the journal: accepted events) and the user.
uninstall:
	$(call msg,REMOVE,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/pixeld $(DESTDIR)$(BINDIR)/pixelctl \
		$(DESTDIR)$(UNITDIR)/pixeld.service $(DESTDIR)$(DOCDIR)/pixeld.ini.example \
		$(foreach m,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))
	$(Q)rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true

# make deb: build/pixeld_VERSION_ARCH.deb from a staged install under
# PREFIX=/usr, dependencies from dpkg-shlibdeps, conffile /etc/pixeld/pixeld.ini,
# scripts/pixeld-user.sh as postinst (creates the user; enables nothing).
DEB_VERSION = $(shell sed -n 's/^\#define PXD_VERSION "\(.*\)"/\1/p' include/version.h)
DEB_ARCH    = $(shell dpkg --print-architecture)
DEB_STAGE   := $(BUILD)/deb/pixeld
deb: $(OBJDIR)/pixeld $(OBJDIR)/pixelctl $(MAN_PAGES)
	$(call msg,DEB,$(BUILD)/pixeld_$(DEB_VERSION)_$(DEB_ARCH).deb)
	$(Q)rm -rf $(BUILD)/deb $(BUILD)/pixeld_*.deb && mkdir -p $(DEB_STAGE)/DEBIAN $(BUILD)/deb/src/debian
	$(Q)$(MAKE) --no-print-directory install DESTDIR=$(abspath $(DEB_STAGE)) PREFIX=/usr \
		UNITDIR=/lib/systemd/system
	$(Q)printf 'Source: pixeld\n\nPackage: pixeld\nArchitecture: any\n' > $(BUILD)/deb/src/debian/control
	$(Q)cd $(BUILD)/deb/src && dpkg-shlibdeps -O -e../pixeld/usr/sbin/pixeld \
		-e../pixeld/usr/bin/pixelctl | sed 's/^shlibs:Depends=//' > ../depends
	$(Q)printf '%s\n' 'Package: pixeld' 'Version: $(DEB_VERSION)' 'Architecture: $(DEB_ARCH)' \
		'Maintainer: pixeld developers <pixeld@localhost>' 'Section: net' 'Priority: optional' \
		"Depends: passwd, $$(cat $(BUILD)/deb/depends)" \
		"Installed-Size: $$(du -sk --exclude=DEBIAN $(DEB_STAGE) | cut -f1)" \
		'Description: conversion and pixel collector (io_uring ingest, journal, XDP)' \
		' Takes tracking pixels, beacons, server events and email opens, drops bot' \
		' traffic at the NIC with XDP, journals every accepted event and delivers' \
		' them in batches to ad-platform conversion APIs.' > $(DEB_STAGE)/DEBIAN/control
	$(Q)echo /etc/pixeld/pixeld.ini > $(DEB_STAGE)/DEBIAN/conffiles
	$(Q)install -m 0755 scripts/pixeld-user.sh $(DEB_STAGE)/DEBIAN/postinst
	$(Q)install -m 0755 scripts/deb-postrm.sh $(DEB_STAGE)/DEBIAN/postrm
	$(Q)dpkg-deb --root-owner-group -Zxz --build $(DEB_STAGE) \
		$(BUILD)/pixeld_$(DEB_VERSION)_$(DEB_ARCH).deb >/dev/null
