"""Make the small real `torch.save` files that tests/convert/test_pth_reader.py reads (needs PyTorch; run by hand).

    /work/torchvenv/bin/python tools/make_pth_reader_fixtures.py [--out tests/convert/data]

Writes, next to an `.npz` of the values PyTorch itself reports for every entry (bfloat16 as float32):
- `torch_odd_features.pth` (zip) and `torch_odd_features_legacy.pth` (pre-1.6 format): a state dict with the
  storage features a converter meets: bfloat16, float16, float64, int8/16/32/64, uint8/16, bool, complex64, a
  Parameter, 0-d tensors, a transposed view and a strided slice sharing one storage, an offset row view, an
  expanded (stride 0) view and a channels_last conv weight.
- `torch_wrapped_dataparallel.pth`: `{'epoch', 'state_dict': nn.DataParallel(model).state_dict(), 'optimizer'}`,
  i.e. `module.`-prefixed keys inside a training checkpoint with Adam state (integer keys, so not a state_dict).
"""

import argparse
import collections
import pathlib

import numpy as np
import torch


def odd_features():
    torch.manual_seed(0)
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 8 - 1
    sd = collections.OrderedDict()
    sd["base"] = base
    sd["base_t"] = base.t()
    sd["slice"] = base[1:, 2:5]
    sd["row"] = base[2]
    sd["expanded"] = base[0, :3].unsqueeze(0).expand(2, 3)
    sd["channels_last"] = torch.randn(3, 2, 2, 2).to(memory_format=torch.channels_last)
    sd["param"] = torch.nn.Parameter(torch.randn(2, 2))
    sd["bf16"] = torch.tensor([1.5, -2.0, 0.1, 3e20, -7e-5], dtype=torch.bfloat16)
    sd["bf16_t"] = torch.randn(2, 3).to(torch.bfloat16).t()
    sd["half"] = torch.randn(5).half()
    sd["double"] = torch.randn(3, dtype=torch.float64)
    sd["int8"] = torch.tensor([-128, 0, 127], dtype=torch.int8)
    sd["int16"] = torch.tensor([-30000, 5], dtype=torch.int16)
    sd["int32"] = torch.tensor([[1, -2], [3, 2**31 - 1]], dtype=torch.int32)
    sd["uint8"] = torch.tensor([0, 255], dtype=torch.uint8)
    sd["uint16"] = torch.tensor([1, 60000], dtype=torch.int32).to(torch.uint16)
    sd["bool"] = torch.tensor([True, False, True])
    sd["complex"] = torch.tensor([1 + 2j, -3j], dtype=torch.complex64)
    sd["num_batches_tracked"] = torch.tensor(2**40, dtype=torch.int64)
    sd["scalar"] = torch.tensor(0.25)
    return sd


def wrapped_dataparallel():
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.Conv2d(3, 1, 1))
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.randn(2, 2, 5, 5)).mean().backward()
    optimizer.step()
    state = torch.nn.DataParallel(model).state_dict()
    assert all(k.startswith("module.") for k in state)
    return {"epoch": 7, "state_dict": state, "optimizer": optimizer.state_dict()}, model.state_dict()


def as_numpy(state):
    return {k: (v.detach().float() if v.dtype == torch.bfloat16 else v.detach()).numpy() for k, v in state.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parents[1] / "tests/convert/data"))
    out = pathlib.Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    odd = odd_features()
    torch.save(odd, out / "torch_odd_features.pth")
    torch.save(odd, out / "torch_odd_features_legacy.pth", _use_new_zipfile_serialization=False)
    np.savez(out / "torch_odd_features.npz", **as_numpy(odd))
    wrapped, plain = wrapped_dataparallel()
    torch.save(wrapped, out / "torch_wrapped_dataparallel.pth")
    np.savez(out / "torch_wrapped_dataparallel.npz", **as_numpy(plain))
    for path in sorted(out.iterdir()):
        print(f"{path.name}\t{path.stat().st_size} bytes")
    print(f"torch {torch.__version__}")


if __name__ == "__main__":
    main()
