/* A QEMU TCG plugin for bench/qemu_profile.py --exact: counts how often each
 * translated block runs, and writes "PC INSTRUCTIONS EXECUTIONS" per block
 * (hexadecimal PC) to the file given as out=FILE when the guest stops.
 *
 * Only the few plugin API calls used here are declared, so that no QEMU
 * headers are needed; version 2 of the API has them all, and QEMU loads
 * plugins of any version from its minimum (2) to its own. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS };

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
                                           void (*cb)(qemu_plugin_id_t, struct qemu_plugin_tb *));
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb,
                                          void (*cb)(unsigned int vcpu, void *userdata),
                                          enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
                                    void (*cb)(qemu_plugin_id_t, void *userdata), void *userdata);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);

__attribute__((visibility("default"))) int qemu_plugin_version = 2;

/* One per translation; a block translated again gets another record, and
 * the reader adds them up by PC. The boards run one vCPU. */
struct block {
    uint64_t pc, insns, executions;
    struct block *next;
};
static struct block *blocks;
static const char *out_path = "hotblocks.txt";

static void on_exec(unsigned int vcpu, void *userdata) {
    (void)vcpu;
    ((struct block *)userdata)->executions++;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    struct block *b = calloc(1, sizeof *b);
    if (!b)
        return;
    b->pc = qemu_plugin_tb_vaddr(tb);
    b->insns = qemu_plugin_tb_n_insns(tb);
    b->next = blocks;
    blocks = b;
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_exec, QEMU_PLUGIN_CB_NO_REGS, b);
}

static void on_guest_stop(qemu_plugin_id_t id, void *userdata) {
    (void)id;
    (void)userdata;
    FILE *f = fopen(out_path, "w");
    if (!f)
        return;
    for (struct block *b = blocks; b; b = b->next)
        if (b->executions)
            fprintf(f, "%llx %llu %llu\n", (unsigned long long)b->pc,
                    (unsigned long long)b->insns, (unsigned long long)b->executions);
    fclose(f);
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id,
                                                               const qemu_info_t *info,
                                                               int argc, char **argv) {
    (void)info;
    for (int i = 0; i < argc; i++)
        if (strncmp(argv[i], "out=", 4) == 0)
            out_path = strdup(argv[i] + 4);
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_guest_stop, NULL);
    return 0;
}
