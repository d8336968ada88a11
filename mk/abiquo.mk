# The Abiquo API simulator, for demos and manual testing of the token sync.
SIM_VMS ?= 200
SIM_ENTERPRISES ?= 10
SIM_SEED ?= 1
SIM_URLS ?= http://127.0.0.1:8780

.PHONY: abiquo-sim

## abiquo-sim: run the Abiquo simulator in the foreground (SIM_VMS, SIM_SEED, SIM_URLS; SIM_ARGS="--vnc-target 127.0.0.1:5901:pw" for real desktops)
abiquo-sim: build
	$(ARTIFACTS)/abiquo-simulator/abiquo-simulator --urls $(SIM_URLS) --vms $(SIM_VMS) --enterprises $(SIM_ENTERPRISES) --seed $(SIM_SEED) $(SIM_ARGS)
