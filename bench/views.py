"""Baselines for the push benchmark, served by the same stack (gunicorn, Django, DRF).

- ``NoDatabaseView``: a trivial DRF view that touches no database: the framework's floor.
- ``OneRowInsertView``: inserts one row in one transaction: the least database work any stored
  push needs.
"""

from django.db import transaction
from django.http import JsonResponse
from django.utils import timezone
from rest_framework.views import APIView

from orders.models import PushLog


class NoDatabaseView(APIView):
    authentication_classes = ()
    permission_classes = ()

    def get(self, request):
        return JsonResponse({"code": "1001"})

    def post(self, request):
        request.stream.read() if request.stream is not None else b""
        return JsonResponse({"code": "1001"})


class OneRowInsertView(APIView):
    authentication_classes = ()
    permission_classes = ()

    def post(self, request):
        body = request.stream.read() if request.stream is not None else b""
        with transaction.atomic():
            PushLog.objects.create(
                received_at=timezone.now(),
                body=body[:1024].decode("utf-8", errors="replace"),
                code="1001",
                reason="accepted",
            )
        return JsonResponse({"code": "1001"})
