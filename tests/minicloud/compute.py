# compute.py: minicloud's compute service, the subset of Nova's v2.1 API that vmtp and the openstack client use (SPEC §9).
#
# Usage: compute.py CONFIG.json   (written by `minicloud up`; holds ports, the service password, computes, boot delay,
#                                  the state file and the agent hook, e.g. "agent": "dataplane:Agent")
#
# nova_state.py holds the state (servers, flavors, key pairs, quotas, scheduling, boot threads, the state file);
# nova_api.py the HTTP API over it (versions, microversions, tokens, the route table, policy, views).
import json
import sys

import nova_api
import nova_state


def main():
    with open(sys.argv[1]) as fp:
        cfg = json.load(fp)
    nova_api.serve(nova_state.Compute(cfg), cfg["port"])


if __name__ == "__main__":
    main()
