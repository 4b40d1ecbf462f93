/*
 * TEST-ONLY shim, never shipped: a stand-in for Windows' bcryptprimitives.dll so that the
 * tenable-rotate .exe can run under Debian 12's wine 8, which lacks that DLL.
 *
 * Rust's std (1.78 and later) seeds its hash maps and asks for random bytes through
 * ProcessPrng in bcryptprimitives.dll, which every Windows 10 and later has. wine 8 does not
 * export it, so the .exe exits at start. This DLL exports ProcessPrng and answers it with
 * RtlGenRandom (SystemFunction036 in advapi32), which wine does implement. On Windows the
 * system's own DLL is used; this one is built by scripts/windows-e2e.sh into the wine test
 * directory (target/wine-test/) beside the .exe and is never copied to dist/.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom */

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    /* RtlGenRandom takes a ULONG length: fill in chunks. ProcessPrng never fails. */
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
