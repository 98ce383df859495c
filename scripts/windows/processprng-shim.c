/* bcryptprimitives.dll for Wine prefixes that lack it (Wine 8.0).
 *
 * Rust's standard library (1.78 and later) gets its random bytes from ProcessPrng in
 * bcryptprimitives.dll, which Windows 10 and later have and Wine 8.0 does not: without this
 * file every Rust program exits at load time with STATUS_DLL_NOT_FOUND (c0000135).
 * scripts/windows/test.sh builds it with mingw-w64 and puts it into the test prefix's
 * system32. It is never shipped: real Windows has the real DLL.
 *
 * ProcessPrng is documented as `BOOL ProcessPrng(PBYTE pbData, SIZE_T cbData)`, always TRUE.
 * It is served here by SystemFunction036 (RtlGenRandom) from advapi32, which Wine implements
 * over the host's random source; RtlGenRandom takes a ULONG length, so large requests go in
 * chunks. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            /* ProcessPrng has no failure result; a random source that fails is fatal. */
            RaiseFailFastException(NULL, NULL, 0);
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
