"""The platform's pay-order push (PUSH_PROTOCOL.md): one signed request per payment.

``outcomes`` names every answer; the request goes ``views`` → ``services.receive_push`` →
``decoding`` → ``validation`` → ``storing``.
"""
