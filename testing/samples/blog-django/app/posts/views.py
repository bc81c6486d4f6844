from django.http import Http404, JsonResponse

from posts.models import Post


def post_list(request):
    posts = Post.objects.all()[:20]
    return JsonResponse({"posts": [{"id": p.id, "title": p.title} for p in posts]})


def post_detail(request, pk):
    post = Post.objects.filter(pk=pk).first()
    if post is None:
        raise Http404("no such post")
    return JsonResponse({"id": post.id, "title": post.title, "body": post.body})


def archive(request):
    count = Post.objects.count()
    return JsonResponse({"posts": count})


def health(request):
    return JsonResponse({"status": "ok"})
