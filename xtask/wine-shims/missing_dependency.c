/*
 * Test infrastructure only; never shipped with Continuo.
 *
 * A stand-in for onnxruntime.dll on a Windows machine without the Visual C++ Redistributable:
 * it imports a function from a DLL that does not exist (continuo_absent_vcruntime.dll), so
 * Windows refuses to load it with ERROR_MOD_NOT_FOUND, exactly as it refuses the real runtime
 * when MSVCP140.dll is missing. cargo xtask test-windows builds it; the Windows tests check that
 * Continuo then says why and falls back to the Markov generator.
 */
__declspec(dllimport) int absent_function(void);

__declspec(dllexport) int OrtGetApiBase(void)
{
    return absent_function();
}
