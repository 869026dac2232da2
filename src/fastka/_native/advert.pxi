# VRRP advert codec over csrc/vrrp.c (being written).
