# The OpenBLAS N-API addon behind the `native` backend (src/engine/backend/native).
# Built by scripts/build-native.mjs (run by `npm ci`), which also supplies the OpenBLAS paths.
{
  "targets": [
    {
      "target_name": "peft_native",
      "sources": [
        "native/peft_native.c",
        "native/gemm.c",
        "native/binary.c",
        "native/unary.c",
        "native/reduce.c",
        "native/softmax.c",
        "native/transpose.c",
        "native/gather.c",
        "native/select.c",
        "native/fused.c",
        "native/tile.c",
        "native/slice_pad.c",
        "native/rms_norm.c",
        "native/swiglu.c",
        "native/cross_entropy.c",
        "native/attention.c",
        "native/lora.c",
        "native/adam.c"
      ],
      "include_dirs": ["<!(node scripts/build-native.mjs --gyp include)"],
      "cflags": ["<!@(node scripts/build-native.mjs --gyp cflags)"],
      "cflags!": ["-O2", "-O0"],
      "ldflags": ["<!@(node scripts/build-native.mjs --gyp ldflags)"],
      "libraries": ["<!@(node scripts/build-native.mjs --gyp libs)"]
    }
  ]
}
