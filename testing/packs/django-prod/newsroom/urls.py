from articles import views
from django.urls import path

urlpatterns = [
    path("healthz", views.health),
    path("articles/<int:pk>", views.article),
]
