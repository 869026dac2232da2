# Timer wheel over csrc/timerwheel.c (being written).
