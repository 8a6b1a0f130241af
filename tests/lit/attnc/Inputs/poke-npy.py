"""Sets element INDEX of a float32 .npy file to VALUE (nan, inf or a number).

    poke-npy.py FILE INDEX VALUE

Standard library only (the tests do not need NumPy)."""
import struct
import sys

path, index, value = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
with open(path, "rb") as f:
    data = f.read()
assert data[:6] == b"\x93NUMPY", path + ": not a .npy file"
if data[6] == 1:
    offset = 10 + struct.unpack("<H", data[8:10])[0]
else:
    offset = 12 + struct.unpack("<I", data[8:12])[0]
assert "'<f4'" in data[:offset].decode("latin1"), path + ": not float32"
with open(path, "r+b") as f:
    f.seek(offset + 4 * index)
    f.write(struct.pack("<f", value))
