"""What a repository already says about how its service is built, run and checked (pure): the
readers `mutbot init` guesses a first config from. Each guess is a small record with its value,
where it was read ("boot.sh:3", and why) and whether it is in doubt (mutbot.discover.model);
`plan.discover` puts them together and `render` writes .mutbot.yml and a starting locustfile.
The edge that lists and reads the files is mutbot.init."""
