package framework

type server struct{}

type coreConfig struct{}
