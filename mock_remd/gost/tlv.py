"""The encoded bytes of ASN.1 elements, split by tag and length without re-encoding anything.

Signatures cover bytes as they were sent (a TBSCertificate, signed attributes), and names are compared by
their bytes first. asn1crypto's ``dump()`` of a parsed value may re-encode it (it does for any value whose
length octets end in 0x80, taking them for BER), which needs the value's full spec — unknown for GOST
keys without global registration. So the parts the checks use are cut out here with asn1crypto's
tag-length parser (BER indefinite lengths included) and only then parsed, piece by piece.
"""

from __future__ import annotations

from asn1crypto import core, parser


def _element_end_by_copy(data: bytes, size: int, pointer: int, lengths_only: bool) -> tuple[int, int]:
    """(end of header, end of element) of the element at ``pointer``, through the public parser (a copy)."""
    _cls, _method, _tag, header, body, trailer = parser.parse(data[pointer:size])
    return pointer + len(header), pointer + len(header) + len(body) + len(trailer)


#: asn1crypto's tag-length parser from a position: (end of header, end of element) with
#: ``lengths_only``; the same checks and ValueErrors as :func:`asn1crypto.parser.parse`. It is private:
#: should a release drop it, the public parser on a copy gives the same answer (slower)
_element_end = getattr(parser, "_parse", None) or _element_end_by_copy


def _in_place(data: bytes, size: int, pointer: int) -> tuple[int, int] | None:
    """(start, end) of the contents of the element at ``pointer`` when its header is the usual one (a low
    tag number, a definite length in at most two length octets) and the element lies inside ``data``,
    read as asn1crypto's parser reads it (tests compare); None: the parser must read it."""
    start = pointer + 2
    if start > size or data[pointer] & 0x1F == 0x1F:
        return None
    length = data[start - 1]
    if length & 0x80:
        if length == 0x81 and start < size:
            length = data[start]
            start += 1
        elif length == 0x82 and start + 1 < size:
            length = data[start] << 8 | data[start + 1]
            start += 2
        else:  # indefinite, longer or cut-off length octets
            return None
    end = start + length
    return (start, end) if end <= size else None


def split(data: bytes) -> list[bytes]:
    """The complete TLV encodings (header, contents, end-of-contents) concatenated in ``data``.

    Faults raise the ValueError :func:`asn1crypto.parser.parse` raises. The usual header (a low tag
    number, a definite length in at most two length octets, the element inside ``data``) is read in
    place, as asn1crypto's parser reads it (tests compare); any other goes through the parser's
    positional form (``parse`` itself only reads from the start, so each element would cost a copy
    of the rest of ``data``).
    """
    out: list[bytes] = []
    pointer = 0
    size = len(data)
    while pointer < size:
        span = _in_place(data, size, pointer)
        end = span[1] if span is not None else _element_end(data, size, pointer, True)[1]
        out.append(data[pointer:end])
        pointer = end
    return out


def _element_info_by_copy(data: bytes, size: int, pointer: int) -> tuple[tuple, int]:
    """(parse info, end of element) of the element at ``pointer``, through the public parser (a copy)."""
    info = parser.parse(data[pointer:size])
    return info, pointer + len(info[3]) + len(info[4]) + len(info[5])


#: asn1crypto's full parse from a position: ((class, method, tag, header, contents, trailer), end);
#: private like ``_element_end`` above, with the same public fallback
_element_info = getattr(parser, "_parse", None) or _element_info_by_copy


def split_parts(data: bytes) -> list[tuple[bytes, bytes]]:
    """(element, its contents octets) of each element :func:`split` gives, each element parsed once
    (``split`` and then :func:`contents` of each parse every element twice). The same ValueErrors."""
    out: list[tuple[bytes, bytes]] = []
    pointer = 0
    size = len(data)
    while pointer < size:
        span = _in_place(data, size, pointer)
        if span is not None:
            start, end = span
            out.append((data[pointer:end], data[start:end]))
        else:
            info, end = _element_info(data, size, pointer)
            out.append((data[pointer:end], info[4]))
        pointer = end
    return out


def first(data: bytes) -> tuple[bytes, int]:
    """(contents octets, end) of the element at the start of ``data``; bytes after it are ignored,
    as :func:`asn1crypto.parser.parse` ignores them, and its faults raise the same ValueErrors."""
    size = len(data)
    span = _in_place(data, size, 0)
    if span is not None:
        return data[span[0]:span[1]], span[1]
    info, end = _element_info(data, size, 0)
    return info[4], end


def contents(element: bytes) -> bytes:
    """The contents octets of one TLV element (without an indefinite length's end-of-contents)."""
    return first(element)[0]


def children(element: bytes) -> list[bytes]:
    """The TLV encodings of the elements inside one constructed element."""
    return split(contents(element))


def identifier(element: bytes) -> int:
    """The first identifier octet (class, constructed bit and low tag number)."""
    return element[0]


def encoded(value: core.Asn1Value) -> bytes:
    """The bytes a parsed, unchanged asn1crypto value was read from; ``dump()`` for values built in Python.

    asn1crypto keeps the received header and contents but offers no public accessor that never
    re-encodes, hence the private attributes here, in one place.
    """
    header = getattr(value, "_header", None)
    mutated = getattr(value, "_is_mutated", None)
    if header is not None and not (mutated is not None and mutated()):
        return header + value.contents + (getattr(value, "_trailer", b"") or b"")
    return value.dump()


def encode(identifier_octet: int, contents_octets: bytes) -> bytes:
    """One DER element: identifier octet, definite length, contents."""
    n = len(contents_octets)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([identifier_octet]) + length + contents_octets
