"""XML namespaces of the REMD SOAP profile (remd-protocol.md §1.3): SOAP, callbacks and pulls use the same ones."""

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SERVICE = "http://egisz.rosminzdrav.ru/iehr/emdr/service/"
CALLBACK = "http://egisz.rosminzdrav.ru/iehr/emdr/callback/"
EGISZ = "http://egisz.rosminzdrav.ru"
WSA = "http://www.w3.org/2005/08/addressing"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
#: exclusive XML canonicalization (the wsse:Security signatures use it)
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"

ENVELOPE_NS = {"1.1": SOAP11, "1.2": SOAP12}
CONTENT_TYPES = {"1.1": "text/xml; charset=utf-8", "1.2": "application/soap+xml; charset=utf-8"}
