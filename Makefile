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
CFLAGS := -std=c17 -D_GNU_SOURCE -O2 -g $(WARN) -Iinclude -Ibpf -I$(BUILD)/bpf -MMD -MP
LDLIBS := -luring -lbpf -lelf -lz -lck -ljansson -linih -lhs -lcurl -lssl -lcrypto \
	  -lpthread -lm

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

# Programs: each names the one file that holds its main().
PROG_MAINS := daemon/main.c daemon/pixelctl.c $(wildcard adapters/mock_platform.c) \
	      $(wildcard bench/*.c)
LIB_SRCS   := $(filter-out $(PROG_MAINS),$(wildcard daemon/*.c adapters/*.c))
# Data files (bot patterns, mail-proxy ranges) are embedded in the binaries:
# daemon/data/NAME.txt becomes the NUL-terminated array pxd_data_NAME[].
DATA_SRCS  := $(wildcard daemon/data/*.txt)
DATA_OBJS  := $(DATA_SRCS:daemon/data/%.txt=$(OBJDIR)/data/%.o)
LIB_OBJS   := $(LIB_SRCS:%.c=$(OBJDIR)/%.o) $(DATA_OBJS)
LIB        := $(OBJDIR)/libpxd.a

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
FUZZ_FLAGS := -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined $(WARN) -Iinclude
EVENT_SRCS := daemon/event.c daemon/pii.c daemon/uuid7.c daemon/jsonw.c daemon/refusal.c
FUZZ_DEPS_fuzz_http_parse := daemon/http_parse.c daemon/refusal.c
FUZZ_DEPS_fuzz_event_query := daemon/event_query.c $(EVENT_SRCS)
FUZZ_DEPS_fuzz_event_json := daemon/event_json.c $(EVENT_SRCS)
FUZZ_DEPS_fuzz_email_token := daemon/email_token.c daemon/buf.c daemon/jsonw.c daemon/log.c \
			      daemon/conf_email.c daemon/mail_proxy.c
FUZZ_DEPS_fuzz_journal_record := daemon/journal_format.c daemon/crc32c.c daemon/buf.c \
				 daemon/log.c

PROGS := $(OBJDIR)/pixeld $(OBJDIR)/pixelctl \
	 $(if $(wildcard adapters/mock_platform.c),$(OBJDIR)/mockplatform) \
	 $(patsubst bench/%.c,$(OBJDIR)/%,$(wildcard bench/*.c))

.PHONY: all deps run test unit-bins xdp-bins fuzz format check-format clean bench
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

unit-bins: $(UNIT_BINS)
xdp-bins: $(XDP_BINS)
fuzz: $(FUZZ_BINS)

.SECONDEXPANSION:
$(BUILD)/fuzz/%: tests/fuzz/%.c $$(FUZZ_DEPS_%) $(wildcard include/*.h)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_FLAGS) $< $(FUZZ_DEPS_$*) -o $@ -ljansson -lcrypto

# Rebuild everything when the flags change (redis' persist-settings idea).
$(OBJDIR)/.flags: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)echo '$(CC) $(CFLAGS) $(LDFLAGS)' | cmp -s - $@ || echo '$(CC) $(CFLAGS) $(LDFLAGS)' > $@
FORCE:

$(OBJDIR)/%.o: %.c $(OBJDIR)/.flags | $(BPF_SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OBJDIR)/data/%.o: daemon/data/%.txt
	$(call msg,DATA,$@)
	$(Q)mkdir -p $(@D)
	$(Q)printf '%s\n' '.section .rodata' '.global pxd_data_$*' 'pxd_data_$*:' \
		'.incbin "$<"' '.byte 0' '.section .note.GNU-stack,"",@progbits' | \
		$(CC) -c -x assembler -o $@ -

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OBJDIR)/pixeld: $(OBJDIR)/daemon/main.o $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS) $(MALLOC)

$(OBJDIR)/pixelctl: $(OBJDIR)/daemon/pixelctl.o $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS) $(MALLOC)

$(OBJDIR)/mockplatform: $(OBJDIR)/adapters/mock_platform.o $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS) $(MALLOC)

$(OBJDIR)/%: $(OBJDIR)/bench/%.o $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS) $(MALLOC)

$(OBJDIR)/tests/%: $(OBJDIR)/tests/%.o $(LIB)
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

FORMAT_FILES = $(wildcard bpf/*.c bpf/*.h daemon/*.c adapters/*.c include/*.h bench/*.c \
	       tests/unit/*.c tests/xdp/*.c tests/fuzz/*.c)
format:
	clang-format -i $(FORMAT_FILES)
check-format:
	$(call msg,FORMAT,check)
	$(Q)clang-format --dry-run -Werror $(FORMAT_FILES)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
