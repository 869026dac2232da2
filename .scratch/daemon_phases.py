import subprocess, sys, time, os, signal
sys.path.insert(0, "/work/main/bench")
import ipvs_load
conf = "/tmp/p.conf"
open(conf, "w").write(ipvs_load.config_text(int(sys.argv[1]), 20))
subprocess.run(["ipvsadm", "-C"])
t0 = time.monotonic()
p = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "fastka"), "-C", "-n", "-l", "-D", "-G", "-f", conf,
                      "-p", "/tmp/pp.pid", "-c", "/tmp/pc.pid"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
import threading
def rd():
    for line in p.stdout:
        print(f"{time.monotonic()-t0:7.2f} {line.rstrip()[:150]}", flush=True)
threading.Thread(target=rd, daemon=True).start()
want = int(sys.argv[1]) * 20
while True:
    n = ipvs_load.dest_count()
    if n >= want:
        break
    time.sleep(1)
print(f"{time.monotonic()-t0:7.2f} FULL", flush=True)
p.send_signal(signal.SIGTERM); p.wait(); time.sleep(0.5)
print(f"{time.monotonic()-t0:7.2f} stopped, {ipvs_load.dest_count()} left", flush=True)
