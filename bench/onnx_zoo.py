"""The ONNX zoo bench's PyTorch side (bench/onnx_zoo.sh): torchvision's
ResNet-18, MobileNetV2 and SqueezeNet 1.0 (weights=None: nothing is
downloaded) at 224x224, in eval mode.

    python3 onnx_zoo.py export DIR        # NAME.onnx (opset 13, dynamic batch),
                                          # NAME_bB.npy inputs, NAME_bB_expected.npy
    python3 onnx_zoo.py time DIR THREADS REPEAT   # eager and TorchScript, ms per run
"""
import sys
import time

MODELS = ("resnet18", "mobilenet_v2", "squeezenet1_0")
BATCHES = (1, 32)


def build(torch, name):
    import torchvision.models as tv
    torch.manual_seed(0)
    return getattr(tv, name)(weights=None).eval()


def export(out):
    import numpy as np
    import torch
    for name in MODELS:
        model = build(torch, name)
        x = torch.rand(1, 3, 224, 224)
        torch.onnx.export(model, x, f"{out}/{name}.onnx", opset_version=13, input_names=["x"],
                          output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
        for b in BATCHES:
            xb = torch.rand(b, 3, 224, 224)
            np.save(f"{out}/{name}_b{b}.npy", xb.numpy())
            with torch.no_grad():
                np.save(f"{out}/{name}_b{b}_expected.npy", model(xb).numpy())


def time_models(out, threads, repeat):
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    from torch_threads import torch_with_threads
    import numpy as np
    torch = torch_with_threads(threads)
    for name in MODELS:
        model = build(torch, name)
        for b in BATCHES:
            x = torch.from_numpy(np.load(f"{out}/{name}_b{b}.npy"))
            with torch.no_grad():
                scripted = torch.jit.freeze(torch.jit.trace(model, x))
                for kind, fn in (("eager", model), ("torchscript", scripted)):
                    for _ in range(3):
                        fn(x)
                    ms = []
                    for _ in range(repeat):
                        start = time.perf_counter()
                        fn(x)
                        ms.append((time.perf_counter() - start) * 1e3)
                    ms.sort()
                    print(f"TIME model={name} batch={b} peer=pytorch_{kind}_t{threads} "
                          f"min={ms[0]:.3f} median={ms[len(ms) // 2]:.3f} max={ms[-1]:.3f}",
                          flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "export":
        export(sys.argv[2])
    else:
        time_models(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
