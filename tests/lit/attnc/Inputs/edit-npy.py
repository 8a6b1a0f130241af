"""Edits a .npy file in place, for tests that need inputs --random does not
make.

    edit-npy.py poke FILE INDEX VALUE   element INDEX of a float32 file
                                        becomes VALUE (nan, inf or a number)
    edit-npy.py blocks FILE R C         a 2-D int32 file becomes a block
                                        pattern: (i, j) is 3 where
                                        (i // R + j // C) % 3 is 0, else 0

The block pattern does not line up with the kernel's tiles, so some tiles
hold no 3, some only 3s, some both. Standard library only (the tests do not
need NumPy)."""
import ast
import struct
import sys


def read_header(path):
    """The .npy header's fields and the offset of the data."""
    with open(path, "rb") as f:
        data = f.read(4096)
    assert data[:6] == b"\x93NUMPY", path + ": not a .npy file"
    start = 10 if data[6] == 1 else 12
    size = struct.unpack("<H" if data[6] == 1 else "<I", data[8:start])[0]
    header = ast.literal_eval(data[start:start + size].decode("latin1"))
    return header, start + size


command, path = sys.argv[1], sys.argv[2]
header, offset = read_header(path)
if command == "poke":
    index, value = int(sys.argv[3]), float(sys.argv[4])
    assert header["descr"] == "<f4", path + ": not float32"
    with open(path, "r+b") as f:
        f.seek(offset + 4 * index)
        f.write(struct.pack("<f", value))
elif command == "blocks":
    rows, cols = int(sys.argv[3]), int(sys.argv[4])
    assert header["descr"] == "<i4" and len(header["shape"]) == 2, path
    n, m = header["shape"]
    values = [3 if (i // rows + j // cols) % 3 == 0 else 0
              for i in range(n) for j in range(m)]
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(struct.pack("<%di" % (n * m), *values))
else:
    sys.exit("unknown command " + command)
