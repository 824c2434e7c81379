"""The product's routes plus the baselines every benchmark figure is compared with."""

from django.urls import path

from bench import views
from parkingops.urls import urlpatterns as product_urlpatterns

urlpatterns = [
    path("bench/nodb/", views.NoDatabaseView.as_view()),
    path("bench/insert/", views.OneRowInsertView.as_view()),
    *product_urlpatterns,
]
