/*
 * Test infrastructure only; never shipped with Continuo.
 *
 * Wine 8.0 (Debian 12) has no bcryptprimitives.dll, from which Rust's standard library imports
 * ProcessPrng on Windows, so no Rust program starts under it. Windows 10 and later have the
 * real DLL. This stand-in answers ProcessPrng with advapi32's RtlGenRandom (SystemFunction036),
 * which Wine implements. cargo xtask test-windows builds it with MinGW and puts it beside the
 * Windows test binaries.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
