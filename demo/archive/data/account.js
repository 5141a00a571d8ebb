window.YTD.account.part0 = [
{"account":{"email":"demo@example.org","createdVia":"web","username":"fenwick_lighthouse","accountId":"1000000000000000001","createdAt":"2014-03-02T09:12:44.000Z","accountDisplayName":"Marguerite Fenwick"}}
]