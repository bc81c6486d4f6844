from django.test import TestCase

from posts.models import Post


class PostTests(TestCase):
    def test_list(self):
        Post.objects.create(title="hello", body="world")
        response = self.client.get("/")
        self.assertEqual(response.json()["posts"][0]["title"], "hello")

    def test_health(self):
        self.assertEqual(self.client.get("/health/").status_code, 200)
