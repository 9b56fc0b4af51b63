"""Read the XWD files that `xwd` writes and save RGB images as PNG (stdlib only).

Only what Xvfb -screen WxHx24 produces is handled: ZPixmap, 32 bits per pixel,
TrueColor masks. Pixels become 0xRRGGBB from the masks in the header; the
pixel's remaining 8 bits are padding of a depth-24 visual and are dropped.
"""
import struct
import zlib

_HEADER = struct.Struct(">25I")  # XWDFileHeader: 25 CARD32, big-endian
_XWD_FILE_VERSION = 7
_ZPIXMAP = 2
_LSB_FIRST = 0
_COLOR_ENTRY_SIZE = 12  # XWDColor: CARD32 pixel, 3 x CARD16, 2 x CARD8


class Image:
    """width x height pixels as a bytes object of packed RGB triples."""

    def __init__(self, width, height, rgb):
        self.width = width
        self.height = height
        self.rgb = rgb

    def pixel(self, x, y):
        i = 3 * (y * self.width + x)
        return tuple(self.rgb[i:i + 3])


def _shift(mask):
    return (mask & -mask).bit_length() - 1


def read_xwd(path):
    """Parse an XWD file into an Image; raise ValueError on what it cannot read."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < _HEADER.size:
        raise ValueError("%s: %d bytes, shorter than an XWD header" % (path, len(data)))
    (header_size, version, pixmap_format, depth, width, height, _xoffset, byte_order,
     _bitmap_unit, _bitmap_bit_order, _bitmap_pad, bits_per_pixel, bytes_per_line,
     _visual_class, red_mask, green_mask, blue_mask, _bits_per_rgb, _colormap_entries,
     ncolors, _ww, _wh, _wx, _wy, _border) = _HEADER.unpack_from(data)
    if version != _XWD_FILE_VERSION or pixmap_format != _ZPIXMAP or bits_per_pixel != 32:
        raise ValueError("%s: XWD version %d format %d depth %d bpp %d; only version 7 "
                         "ZPixmap at 32 bpp is read" % (path, version, pixmap_format, depth,
                                                       bits_per_pixel))
    offset = header_size + ncolors * _COLOR_ENTRY_SIZE
    need = offset + bytes_per_line * height
    if len(data) < need or bytes_per_line < 4 * width:
        raise ValueError("%s: %d bytes, %dx%d at %d bytes per line needs %d"
                         % (path, len(data), width, height, bytes_per_line, need))
    order = "<" if byte_order == _LSB_FIRST else ">"
    masks = (red_mask, green_mask, blue_mask)
    shifts = tuple(_shift(m) for m in masks)
    if any(m >> s != 0xff for m, s in zip(masks, shifts)):
        raise ValueError("%s: colour masks %s are not 8 bits each"
                         % (path, ", ".join("0x%x" % m for m in masks)))
    out = bytearray(3 * width * height)
    row_fmt = struct.Struct("%s%dI" % (order, width))
    o = 0
    for y in range(height):
        for p in row_fmt.unpack_from(data, offset + y * bytes_per_line):
            out[o] = (p >> shifts[0]) & 0xff
            out[o + 1] = (p >> shifts[1]) & 0xff
            out[o + 2] = (p >> shifts[2]) & 0xff
            o += 3
    return Image(width, height, bytes(out))


def write_png(path, image):
    """Save an Image as an 8-bit RGB PNG (no filtering, zlib-compressed)."""
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff))
    stride = 3 * image.width
    raw = b"".join(b"\x00" + image.rgb[y * stride:(y + 1) * stride]
                   for y in range(image.height))
    ihdr = struct.pack(">IIBBBBB", image.width, image.height, 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def difference(a, b):
    """(count, bbox, first) of pixels whose RGB differ; bbox and first are None
    when none do. Sizes must match."""
    if (a.width, a.height) != (b.width, b.height):
        raise ValueError("sizes differ: %dx%d vs %dx%d" % (a.width, a.height, b.width, b.height))
    if a.rgb == b.rgb:
        return 0, None, None
    count = 0
    x0 = y0 = 1 << 30
    x1 = y1 = -1
    first = None
    for i in range(0, len(a.rgb), 3):
        if a.rgb[i:i + 3] != b.rgb[i:i + 3]:
            count += 1
            x, y = (i // 3) % a.width, (i // 3) // a.width
            x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
            if first is None:
                first = (x, y, tuple(a.rgb[i:i + 3]), tuple(b.rgb[i:i + 3]))
    return count, (x0, y0, x1, y1), first


def diff_image(a, b):
    """An Image that is black where a and b agree and white where they differ."""
    out = bytearray(len(a.rgb))
    for i in range(0, len(a.rgb), 3):
        if a.rgb[i:i + 3] != b.rgb[i:i + 3]:
            out[i:i + 3] = b"\xff\xff\xff"
    return Image(a.width, a.height, bytes(out))


def distinct_colors(image, limit=4096):
    """How many distinct RGB values the image has (counting stops at limit)."""
    seen = set()
    for i in range(0, len(image.rgb), 3):
        seen.add(image.rgb[i:i + 3])
        if len(seen) >= limit:
            break
    return len(seen)
