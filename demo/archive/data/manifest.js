window.__THAR_CONFIG = {
  "userInfo": {
    "accountId": "1000000000000000001",
    "userName": "fenwick_lighthouse",
    "displayName": "Marguerite Fenwick"
  },
  "archiveInfo": {
    "sizeBytes": "316764",
    "generationDate": "2025-01-06T10:21:37.000Z",
    "isPartialArchive": false,
    "maxPartSizeBytes": "53687091200"
  },
  "dataTypes": {
    "account": {
      "files": [
        {
          "fileName": "data/account.js",
          "globalName": "YTD.account.part0",
          "count": "1"
        }
      ]
    },
    "profile": {
      "files": [
        {
          "fileName": "data/profile.js",
          "globalName": "YTD.profile.part0",
          "count": "1"
        }
      ]
    },
    "tweets": {
      "files": [
        {
          "fileName": "data/tweets.js",
          "globalName": "YTD.tweets.part0",
          "count": "220"
        },
        {
          "fileName": "data/tweets-part1.js",
          "globalName": "YTD.tweets.part1",
          "count": "201"
        }
      ]
    }
  }
}