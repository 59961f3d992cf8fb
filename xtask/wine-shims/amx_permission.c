/*
 * Test infrastructure only; never shipped with Continuo.
 *
 * On x86 CPUs with AMX, Linux hands out the AMX tile state only to processes that ask for it
 * (arch_prctl ARCH_REQ_XCOMP_PERM). ONNX Runtime for Windows uses AMX when the CPU has it, and
 * under Wine nothing asks, so it dies of SIGILL. Real Windows grants it. cargo xtask
 * test-windows preloads this library (LD_PRELOAD) into Wine so that the process asks once at
 * start.
 */
#include <sys/syscall.h>
#include <unistd.h>

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

__attribute__((constructor)) static void request_amx_permission(void)
{
    /* Fails harmlessly on CPUs and kernels without AMX. */
    syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA);
}
