window.YTD.profile.part0 = [
{"profile":{"description":{"bio":"Retired lighthouse keeper (41 years on the lamp). Sourdough, storm socks, tides & gulls. Starter: Old Agnes. Gull: Barnaby. Fictional. — M.","website":"https://example.org/fenwick","location":"A windy island, 4 knots from anywhere"}}}
]