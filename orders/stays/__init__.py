"""The platform's other pushes for whitelisted plates (PLATFORM_PUSHES.md): a car's entry and
exit, which make one ``Stay`` per ``parking_serial``, and a fixed-car ``Renewal``.

They go through the pay order's pipeline (``orders.push.services.receive_push``), described by
one ``orders.push.kinds.PushKind`` each; ``validation`` reads their fields, ``storing`` writes
them once.
"""
