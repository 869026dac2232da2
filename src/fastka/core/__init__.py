"""The daemon around the subsystems: process, logging, pidfiles, namespaces, signals."""
