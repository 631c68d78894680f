from django.urls import path

from ceiling import views

urlpatterns = [
    path("healthz", views.healthz),
    path("book", views.book),
    path("slots", views.slots),
    path("prescribe", views.prescribe),
    path("refer", views.refer),
]
