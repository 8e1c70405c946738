task "http-echo-jail" {
		driver = "jail-task-driver"
		config {
			Path  = "/zroot/iocage/jails/myjail/root"
			Allow_raw_sockets = true
			Allow_chflags     = true
			Ip4_addr          = "em1|192.168.1.102"
			Exec_start        = "/usr/local/bin/http-echo -listen :9999 -text hello"
			Rctl =  {
					Vmemoryuse = 1200000
				}
			}
    }
