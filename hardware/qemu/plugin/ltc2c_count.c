/*
 * ltc2c_count: a QEMU TCG plugin that counts executed guest instructions per call of a function.
 *
 * A "window" opens when the guest executes an instruction at one of the start addresses (the
 * entry of NAME_step / NAME_step_dt) and closes at one of the end addresses (the return sites
 * of those calls in the harness). Every instruction in between is counted, callees included
 * (libgcc soft-float, libm). Counting is an inline 64-bit add per instruction, so it is exact
 * and deterministic (no sampling, no host timing), and cheap enough for whole test runs.
 *
 * Arguments (QEMU passes them as -plugin lib.so,key=value,...):
 *   start=0xADDR[:0xADDR...]  window-opening addresses
 *   end=0xADDR[:0xADDR...]    window-closing addresses
 *   out=PATH                  result file: "total N", "windows K", "open 0|1", then one count per window
 *   hist=PATH                 optional: per-address counts inside windows ("0xADDR count taken")
 *   base=0xADDR,span=BYTES    address range covered by the histogram
 *
 * Built by ltc2c at run time with the host C compiler: cc -shared -fPIC -O2 ltc2c_count.c
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin_api.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;

#define MAX_MARKS 16

static uint64_t starts[MAX_MARKS], ends[MAX_MARKS];
static int n_starts, n_ends;
static uint64_t counter;     /* instructions executed since start-up (inline add) */
static uint64_t window_begin;
static int active;
static uint64_t *windows;
static size_t n_windows, cap_windows;
static const char *out_path, *hist_path;
static uint64_t hist_base, hist_span;
static uint64_t *hist, *taken;
static uint64_t last_pc, last_size;

static int parse_list(const char *text, uint64_t *list)
{
    int n = 0;
    char *end;
    while (*text && n < MAX_MARKS) {
        list[n++] = strtoull(text, &end, 0);
        if (*end != ':') {
            break;
        }
        text = end + 1;
    }
    return n;
}

static int in_list(uint64_t pc, const uint64_t *list, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        if (list[i] == pc) {
            return 1;
        }
    }
    return 0;
}

static void on_start(unsigned int vcpu, void *ud)
{
    (void)vcpu;
    (void)ud;
    if (!active) {
        active = 1;
        window_begin = counter;
        last_size = 0;
    }
}

static void on_end(unsigned int vcpu, void *ud)
{
    (void)vcpu;
    (void)ud;
    if (!active) {
        return;
    }
    active = 0;
    if (n_windows == cap_windows) {
        size_t cap = cap_windows ? 2 * cap_windows : 1024;
        uint64_t *grown = realloc(windows, cap * sizeof *windows);
        if (!grown) {
            return;
        }
        windows = grown;
        cap_windows = cap;
    }
    windows[n_windows++] = counter - window_begin;
}

static void on_insn_hist(unsigned int vcpu, void *ud)
{
    uint64_t pc = (uint64_t)(uintptr_t)ud >> 4, size = (uint64_t)(uintptr_t)ud & 0xf;
    (void)vcpu;
    if (!active) {
        return;
    }
    if (last_size && pc != last_pc + last_size && last_pc - hist_base < hist_span) {
        taken[last_pc - hist_base]++; /* the previous instruction changed the flow */
    }
    last_pc = pc;
    last_size = size;
    if (pc - hist_base < hist_span) {
        hist[pc - hist_base]++;
    }
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t i, n = qemu_plugin_tb_n_insns(tb);
    (void)id;
    for (i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn);
        if (in_list(pc, ends, n_ends)) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_end, QEMU_PLUGIN_CB_NO_REGS, NULL);
        }
        if (in_list(pc, starts, n_starts)) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_start, QEMU_PLUGIN_CB_NO_REGS, NULL);
        }
        if (hist) {
            uint64_t packed = (pc << 4) | (qemu_plugin_insn_size(insn) & 0xf);
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_insn_hist, QEMU_PLUGIN_CB_NO_REGS,
                                                   (void *)(uintptr_t)packed);
        }
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &counter, 1);
    }
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
    FILE *f;
    size_t i;
    (void)id;
    (void)p;
    f = out_path ? fopen(out_path, "w") : NULL;
    if (f) {
        fprintf(f, "total %" PRIu64 "\nwindows %zu\nopen %d\n", counter, n_windows, active);
        for (i = 0; i < n_windows; i++) {
            fprintf(f, "%" PRIu64 "\n", windows[i]);
        }
        fclose(f);
    }
    if (hist && hist_path && (f = fopen(hist_path, "w"))) {
        uint64_t a;
        for (a = 0; a < hist_span; a++) {
            if (hist[a]) {
                fprintf(f, "0x%" PRIx64 " %" PRIu64 " %" PRIu64 "\n", a + hist_base, hist[a], taken[a]);
            }
        }
        fclose(f);
    }
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv)
{
    int i;
    (void)info;
    for (i = 0; i < argc; i++) {
        char *value = strchr(argv[i], '=');
        if (!value) {
            continue;
        }
        *value++ = 0;
        if (!strcmp(argv[i], "start")) {
            n_starts = parse_list(value, starts);
        } else if (!strcmp(argv[i], "end")) {
            n_ends = parse_list(value, ends);
        } else if (!strcmp(argv[i], "out")) {
            out_path = value;
        } else if (!strcmp(argv[i], "hist")) {
            hist_path = value;
        } else if (!strcmp(argv[i], "base")) {
            hist_base = strtoull(value, NULL, 0);
        } else if (!strcmp(argv[i], "span")) {
            hist_span = strtoull(value, NULL, 0);
        }
    }
    if (hist_path && hist_span) {
        hist = calloc(hist_span, sizeof *hist);
        taken = calloc(hist_span, sizeof *taken);
        if (!hist || !taken) {
            return -1;
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
