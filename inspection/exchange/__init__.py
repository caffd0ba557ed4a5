"""Exchanges with other authorities' systems: the IPPC ePhyto hub (`hub`, its client; `double`, a local stand-in
that implements the same WSDL for tests and the demo)."""
