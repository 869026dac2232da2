ip link add fsx type veth peer name fsxp
ip addr add 10.6.0.1/24 dev fsx; ip link set fsx up; ip link set fsxp up
cat > /tmp/k.conf <<EOC
global_defs {
  lvs_sync_daemon fsx VI_1 maxlen 1400
}
vrrp_instance VI_1 {
  state BACKUP
  interface fsx
  virtual_router_id 51
  priority 100
  advert_int 0.2
  virtual_ipaddress {
    10.6.0.100/24
  }
}
EOC
.venv/bin/fastka -P -n -l -G -f /tmp/k.conf -p /tmp/p.pid -r /tmp/r.pid &
sleep 15; ipvsadm -L --daemon; kill %1; wait
