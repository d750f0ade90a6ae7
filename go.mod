module github.com/platform-eng/golden-ami

go 1.26.8
