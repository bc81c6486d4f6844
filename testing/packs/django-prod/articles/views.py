from django.http import HttpResponse, JsonResponse


def health(request):
    return HttpResponse("ok")


def article(request, pk):
    return JsonResponse({"id": pk, "title": f"Article {pk}"})
