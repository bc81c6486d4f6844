import unittest

import app


class LookupTest(unittest.TestCase):
    def test_the_slow_path_agrees_with_itself(self) -> None:
        self.assertEqual(app.work_out("1017"), app.work_out("1017"))


if __name__ == "__main__":
    unittest.main()
