// SPDX-License-Identifier: MIT
/*
 * C++ new/delete with an exactly known truth.  Runs at once, prints "done".
 *   make_widgets     6 x new Widget (48 bytes)     288 / 6
 *   make_arrays      3 x new char[200]             600 / 3
 *   churn_widgets    100 x new + delete              0 / 0
 */
#include <cstdio>
#include <vector>

namespace shop {
struct Widget {
	long id;
	char name[40];
};

static std::vector<Widget *> *kept = new std::vector<Widget *>();

void make_widgets()
{
	for (int i = 0; i < 6; i++) {
		Widget *w = new Widget();
		w->id = i;
		kept->push_back(w);
	}
}

void make_arrays()
{
	for (int i = 0; i < 3; i++)
		kept->push_back(reinterpret_cast<Widget *>(new char[200]));
}

void churn_widgets()
{
	for (int i = 0; i < 100; i++) {
		Widget *volatile w = new Widget(); /* volatile: no new/delete elision */
		w->id = i;
		delete w;
	}
}
} // namespace shop

int main()
{
	shop::kept->reserve(64); /* the vector's own storage, allocated before the cases */
	shop::make_widgets();
	shop::make_arrays();
	shop::churn_widgets();
	std::puts("done");
	return 0;
}
