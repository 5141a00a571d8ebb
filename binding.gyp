# The node-gyp build of tweetsmith's addon, for machines without CMake: the same
# engine and binding as CMakeLists.txt, with ggml's CPU backend compiled in as
# ggml's CMake compiles it for CMakeLists.txt's options (static, llamafile's
# sgemm, no OpenMP: ggml's own thread pool). CPU only.
# `npm run build:gyp` runs it; a plain `node-gyp rebuild` works too.
# See docs/PACKAGING.md.
{
  'variables': {
    # Fetches ggml into native/ggml if it is not there yet and writes the
    # version header that ggml's CMake would configure; prints its folder.
    'ggml_generated': '<!(node scripts/fetch-ggml.mjs --for-gyp)',
    'ggml': 'native/ggml/src',
  },
  'target_defaults': {
    'include_dirs': [
      '<(ggml_generated)',
      'native/ggml/include',
      '<(ggml)',
      '<(ggml)/ggml-cpu',
    ],
    # as CMake's Release: NDEBUG also keeps ggml's debug log quiet
    'configurations': { 'Release': { 'defines': ['NDEBUG'] } },
    'defines': [
      'GGML_USE_CPU',
      'GGML_USE_CPU_REPACK',
      'GGML_USE_LLAMAFILE',
      'GGML_SCHED_MAX_COPIES=4',
    ],
    # The engine reports errors with C++ exceptions and ggml uses RTTI; node-gyp
    # turns both off by default.
    'cflags!': ['-fno-exceptions', '-fno-rtti'],
    'cflags_cc!': ['-fno-exceptions', '-fno-rtti'],
    'cflags_c': ['-std=gnu11'],
    'cflags_cc': ['-std=gnu++17'],
    # ggml's CMake silences some of these; all come from ggml's code or from GCC's
    # own intrinsics headers, and they bury real messages.
    'cflags': ['-fPIC', '-Wno-unused-function', '-Wno-maybe-uninitialized', '-Wno-uninitialized', '-Wno-psabi'],
    'xcode_settings': {
      'GCC_ENABLE_CPP_EXCEPTIONS': 'YES',
      'GCC_ENABLE_CPP_RTTI': 'YES',
      'CLANG_CXX_LANGUAGE_STANDARD': 'gnu++17',
      'GCC_C_LANGUAGE_STANDARD': 'gnu11',
      'MACOSX_DEPLOYMENT_TARGET': '11.0',
    },
    'msvs_settings': {
      'VCCLCompilerTool': {
        'ExceptionHandling': 1,
        'RuntimeTypeInfo': 'true',
        'AdditionalOptions': ['/std:c++17', '/utf-8', '/bigobj'],
      },
    },
    'conditions': [
      # the POSIX and GNU interfaces ggml's CMake asks for
      ['OS=="linux"', { 'defines': ['_GNU_SOURCE', '_XOPEN_SOURCE=600'] }],
      ['OS=="mac"', { 'defines': ['_XOPEN_SOURCE=600', '_DARWIN_C_SOURCE'] }],
      ['OS=="win"', { 'defines': ['_CRT_SECURE_NO_WARNINGS', '_XOPEN_SOURCE=600'] }],
      # A local build: ggml's SIMD for the CPU it is built on, as the CMake
      # build's GGML_NATIVE does.
      ['target_arch=="x64" and OS!="win"', {
        'cflags': ['-march=native'],
        'xcode_settings': { 'OTHER_CFLAGS': ['-march=native'] },
      }],
      ['target_arch=="x64" and OS=="win"', {
        'defines': ['GGML_AVX2', 'GGML_FMA', 'GGML_F16C'],
        'msvs_settings': { 'VCCLCompilerTool': { 'EnableEnhancedInstructionSet': 5 } },
      }],
      ['target_arch=="arm64" and OS=="linux"', { 'cflags': ['-mcpu=native'] }],
    ],
  },
  'targets': [
    # Two libraries with parts of ggml, because build tools go wrong when two
    # sources in a target share a base name: make's rules compile ggml.cpp
    # for the ggml.o that ggml.c should make (ggml-cpu.c likewise), and Visual
    # Studio puts both quants.c (and both repack.cpp) in one object file.
    {
      'target_name': 'ggml_c',
      'type': 'static_library',
      'sources': [
        '<(ggml)/ggml.c',
        '<(ggml)/ggml-alloc.c',
        '<(ggml)/ggml-quants.c',
        '<(ggml)/ggml-cpu/ggml-cpu.c',
        '<(ggml)/ggml-cpu/quants.c',
      ],
    },
    {
      'target_name': 'ggml_arch',
      'type': 'static_library',
      'conditions': [
        ['target_arch=="x64"', { 'sources': ['<(ggml)/ggml-cpu/arch/x86/quants.c', '<(ggml)/ggml-cpu/arch/x86/repack.cpp'] }],
        ['target_arch=="arm64"', { 'sources': ['<(ggml)/ggml-cpu/arch/arm/quants.c', '<(ggml)/ggml-cpu/arch/arm/repack.cpp'] }],
      ],
    },
    {
      'target_name': 'tweetsmith',
      'dependencies': ['ggml_c', 'ggml_arch'],
      'sources': [
        # the engine and the binding: every .cpp, as CMakeLists.txt globs them
        "<!@(node -p \"require('fs').readdirSync('native/engine').filter(f => f.endsWith('.cpp')).sort().map(f => 'native/engine/' + f).join(' ')\")",
        "<!@(node -p \"require('fs').readdirSync('native/addon').filter(f => f.endsWith('.cpp')).sort().map(f => 'native/addon/' + f).join(' ')\")",
        # ggml-base's C++
        '<(ggml)/ggml.cpp',
        '<(ggml)/ggml-backend.cpp',
        '<(ggml)/ggml-backend-meta.cpp',
        '<(ggml)/ggml-opt.cpp',
        '<(ggml)/ggml-threading.cpp',
        '<(ggml)/gguf.cpp',
        # ggml: the backend registry, with the CPU backend built in
        '<(ggml)/ggml-backend-reg.cpp',
        '<(ggml)/ggml-backend-dl.cpp',
        # ggml-cpu's C++
        '<(ggml)/ggml-cpu/ggml-cpu.cpp',
        '<(ggml)/ggml-cpu/repack.cpp',
        '<(ggml)/ggml-cpu/iqp.cpp',
        '<(ggml)/ggml-cpu/hbm.cpp',
        '<(ggml)/ggml-cpu/traits.cpp',
        '<(ggml)/ggml-cpu/amx/amx.cpp',
        '<(ggml)/ggml-cpu/amx/mmq.cpp',
        '<(ggml)/ggml-cpu/binary-ops.cpp',
        '<(ggml)/ggml-cpu/unary-ops.cpp',
        '<(ggml)/ggml-cpu/vec.cpp',
        '<(ggml)/ggml-cpu/ops.cpp',
        # llamafile's tiled matrix multiply, as CMakeLists.txt turns on (GGML_LLAMAFILE)
        '<(ggml)/ggml-cpu/llamafile/sgemm.cpp',
      ],
      'include_dirs': [
        '<!(node -p "require(\'node-addon-api\').include_dir")',
        'native/engine',
      ],
      'defines': [
        'NAPI_VERSION=8',
        'NODE_ADDON_API_DISABLE_DEPRECATED',
        'NODE_ADDON_API_CPP_EXCEPTIONS',
        # any C++ exception escaping a binding call (std::bad_alloc too) becomes a JS error, not std::terminate
        'NODE_ADDON_API_CPP_EXCEPTIONS_ALL',
      ],
      'conditions': [
        ['OS=="linux"', { 'libraries': ['-lm'] }],
        # sqrt as one instruction in a vectorised loop (AdamW's kernel), as CMakeLists.txt
        ['OS!="win"', { 'cflags': ['-fno-math-errno'], 'xcode_settings': { 'OTHER_CFLAGS': ['-fno-math-errno'] } }],
      ],
    },
  ],
}
