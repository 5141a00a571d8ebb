// The GGUF export functions (lib/export/gguf.ts): `exportGGUF(spec, path)` and
// `inspectGGUF(path)`. They convert types and run the engine's writer off the
// JS thread; what is written lives in native/engine/gguf_export.cpp.
#pragma once
#include <napi.h>

namespace tweetsmith::addon {

Napi::Value ExportGGUF(const Napi::CallbackInfo & info);
Napi::Value InspectGGUF(const Napi::CallbackInfo & info);

}  // namespace tweetsmith::addon
