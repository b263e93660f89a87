"""GOST primitives shared by the signature checks (``validation``) and the signing tools (``signing``).

OIDs, DER/TLV cutting, Streebog digests, GOST R 34.10 keys, certificate reading and the OpenSSL GOST
engine bridge. Nothing here knows about documents, layers or requests.
"""
