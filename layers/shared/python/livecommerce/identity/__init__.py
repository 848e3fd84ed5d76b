"""Identity: login through WeChat / Alipay (and dev locally), users, roles, hosts, follows."""
