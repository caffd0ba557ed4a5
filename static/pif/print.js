// A sample's label opened with ?print prints itself (a file, not an inline script: the CSP allows none).
if (location.search.includes("print")) window.print();
