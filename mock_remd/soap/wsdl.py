"""The service contract on spyne: types and operations of CONTRACT §3, published as a WSDL.

spyne describes the interface (so zeep and JAX-WS clients can generate stubs); requests themselves
are read by :mod:`mock_remd.soap.operations` by local name and in any order, which the registry's
real clients need. The WSDL is built per host (its address is the one the client used) and cached.
"""

from __future__ import annotations

import functools
import re
import threading

from spyne import Application, ComplexModel, ServiceBase, Unicode, rpc
from spyne import Array as SpyneArray
from spyne.interface.wsdl import Wsdl11
from spyne.protocol.soap import Soap12

from mock_remd.domain import messages
from mock_remd.domain.messages import Message
from mock_remd.namespaces import EGISZ, SERVICE

_U = Unicode(min_occurs=0)


def _m(name: str, fields: list[tuple[str, object]], ns: str = SERVICE) -> type[ComplexModel]:
    return type(name, (ComplexModel,), {"__namespace__": ns, "__type_name__": name, "_type_info": fields})


_MODELS: dict[str, type[ComplexModel]] = {}


def spyne_type(message: Message) -> type[ComplexModel]:
    """The spyne type of a declared message (one class per type name, shared where the type recurs)."""
    model = _MODELS.get(message.name)
    if model is None:
        fields: list[tuple[str, object]] = []
        for e in message.elements:
            kind: object = Unicode(min_occurs=1) if e.required else _U
            if e.type is not None:
                kind = spyne_type(e.type)
            if e.item:
                kind = SpyneArray(kind, member_name=e.item)
            fields.append((e.name, kind))
        model = _MODELS[message.name] = _m(message.name, fields, message.namespace)
    return model


# the parts first, in this order: spyne writes the schema's types in the order they were made
for _part in (messages.PERSON, messages.PATIENT, messages.DOCTOR, messages.ATTACHMENT, messages.PERSONAL_SIGN,
              messages.ASSOCIATION, messages.ERROR_ITEM, messages.REGISTRY_ITEM):
    spyne_type(_part)
RegisterDocumentRequest = spyne_type(messages.REGISTER_REQUEST)
RegisterDocumentResponse = spyne_type(messages.REGISTER_RESPONSE)
SearchRegistryItemRequest = spyne_type(messages.SEARCH_REQUEST)
SearchRegistryItemResponse = spyne_type(messages.SEARCH_RESPONSE)
GetRegistryItemRequest = spyne_type(messages.GET_ITEM_REQUEST)
GetRegistryItemResponse = spyne_type(messages.GET_ITEM_RESPONSE)

AuthInfo = _m("authInfo", [("clientEntityId", _U)], ns=EGISZ)
TransportHeader = _m("transportHeader", [("authInfo", AuthInfo)], ns=EGISZ)

_HEADERS = (TransportHeader,)


class EmdrService(ServiceBase):
    """Operations of the REMD service (bodies are handled by the registry core, not here)."""

    @rpc(RegisterDocumentRequest, _returns=RegisterDocumentResponse, _body_style="bare",
         _in_message_name="registerDocumentRequest", _out_message_name="registerDocumentResponse",
         _operation_name="registerDocument", _in_header=_HEADERS)
    def registerDocument(ctx, req):  # noqa: N802, N805
        raise NotImplementedError  # pragma: no cover - requests never reach spyne

    @rpc(SearchRegistryItemRequest, _returns=SearchRegistryItemResponse, _body_style="bare",
         _in_message_name="searchRegistryItemRequest", _out_message_name="searchRegistryItemResponse",
         _operation_name="searchRegistryItem", _in_header=_HEADERS)
    def searchRegistryItem(ctx, req):  # noqa: N802, N805
        raise NotImplementedError  # pragma: no cover

    @rpc(GetRegistryItemRequest, _returns=GetRegistryItemResponse, _body_style="bare",
         _in_message_name="getRegistryItemRequest", _out_message_name="getRegistryItemResponse",
         _operation_name="getRegistryItem", _in_header=_HEADERS)
    def getRegistryItem(ctx, req):  # noqa: N802, N805
        raise NotImplementedError  # pragma: no cover


_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _application() -> Application:
    return Application([EmdrService], tns=SERVICE, name="EmdrService", in_protocol=Soap12(), out_protocol=Soap12())


@functools.lru_cache(maxsize=64)
def wsdl_for(address: str) -> bytes:
    """The WSDL with ``address`` as the service location (cached per address)."""
    with _lock:
        wsdl = Wsdl11(_application().interface)
        wsdl.build_interface_document(address)
        text = wsdl.get_interface_document().decode("utf-8")
    # spyne's fixes: the real HTTP transport, header messages live in the service namespace
    text = text.replace('transport="noconn://null.spyne"', 'transport="http://schemas.xmlsoap.org/soap/http"')
    prefix = re.search(r'xmlns:(\w+)="' + re.escape(EGISZ) + '"', text)
    if prefix:
        text = text.replace(f'message="{prefix.group(1)}:transportHeader"', 'message="tns:transportHeader"')
    text = text.replace('<wsdl:service name="EmdrService">', '<wsdl:service name="EmdrService">')
    return text.encode("utf-8")
