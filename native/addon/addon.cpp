// The Node-API module: registers one JS class per engine object and reports
// what this build can do. No model logic lives here: the binding converts types,
// owns lifetimes and moves long work off the JS thread.
#include <napi.h>

#include "AddonAdamW.h"
#include "AddonGenerator.h"
#include "AddonGGUF.h"
#include "AddonKernels.h"
#include "AddonModel.h"
#include "AddonQ8Check.h"
#include "bf16_gemm.h"
#include "q8_decode.h"
#include "device.h"

#include <ggml-cpu.h>
#include <ggml.h>

#include <thread>

namespace tweetsmith::addon {

Napi::Value BuildInfo(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("ggmlVersion", "0.25.1");
#ifdef TWEETSMITH_CUDA
    o.Set("cuda", true);
#else
    o.Set("cuda", false);
#endif
#ifdef TWEETSMITH_VULKAN
    o.Set("vulkan", true);
#else
    o.Set("vulkan", false);
#endif
    o.Set("hardwareThreads", double(std::max(1u, std::thread::hardware_concurrency())));
    Napi::Object cpu = Napi::Object::New(env);
    cpu.Set("avx2", bool(ggml_cpu_has_avx2()));
    cpu.Set("avx512", bool(ggml_cpu_has_avx512()));
    cpu.Set("avx512bf16", bool(ggml_cpu_has_avx512_bf16()));
    // the bf16 products' kernels (bf16_gemm.h): whether they run at all, and whether by vdpbf16ps
    cpu.Set("bf16Gemm", bf16_gemm::supported());
    cpu.Set("bf16Dot", bf16_gemm::dot_bf16());
    // the f32 product's kernels: "avx512", "avx2" (CPUs without AVX-512), or null (ggml's product)
    const char * f32 = bf16_gemm::f32_kernel();
    cpu.Set("f32Gemm", f32 ? Napi::Value(Napi::String::New(env, f32)) : env.Null());
    cpu.Set("amx", bool(ggml_cpu_has_amx_int8()));
    cpu.Set("q8Decode", q8_decode::supported());  // AVX512-VNNI at run time: q8_0 sampling's packed product
    cpu.Set("neon", bool(ggml_cpu_has_neon()));
    cpu.Set("fma", bool(ggml_cpu_has_fma()));
    o.Set("cpu", cpu);
    return o;
}

// devices(): every device this build's backends found, the CPU last
Napi::Value Devices(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env);
    uint32_t i = 0;
    for (const DeviceDescription & d : list_devices()) {
        Napi::Object o = Napi::Object::New(env);
        o.Set("name", d.name);
        o.Set("description", d.description);
        o.Set("backend", d.backend);
        o.Set("index", d.index);
        o.Set("software", d.software);
        o.Set("memoryFree", double(d.memory_free));
        o.Set("memoryTotal", double(d.memory_total));
        out.Set(i++, o);
    }
    return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    exports.Set("Model", AddonModel::Define(env));
    exports.Set("AdamW", AddonAdamW::Define(env));
    exports.Set("Generator", AddonGenerator::Define(env));
    exports.Set("buildInfo", Napi::Function::New(env, BuildInfo));
    exports.Set("devices", Napi::Function::New(env, Devices));
    exports.Set("exportGGUF", Napi::Function::New(env, ExportGGUF));
    exports.Set("inspectGGUF", Napi::Function::New(env, InspectGGUF));
    exports.Set("q8ProductCheck", Napi::Function::New(env, Q8ProductCheck));
    exports.Set("bf16ProductCheck", Napi::Function::New(env, Bf16ProductCheck));
    exports.Set("bf16DecodeCheck", Napi::Function::New(env, Bf16DecodeCheck));
    exports.Set("lowRankProductCheck", Napi::Function::New(env, LowRankProductCheck));
    exports.Set("lowRankOuterProductsCheck", Napi::Function::New(env, LowRankOuterProductsCheck));
    exports.Set("fusedAttentionCheck", Napi::Function::New(env, FusedAttentionCheck));
    return exports;
}

NODE_API_MODULE(tweetsmith, Init)

}  // namespace tweetsmith::addon
